// Hand-written SVG line charts (no chart dependency): log axes, one polyline per series.

const palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];
const escapeXml = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** 1-2-5 ticks between min and max; `major` marks the powers of ten. */
function logTicks(min, max) {
  const ticks = [];
  for (let exponent = Math.floor(Math.log10(min)); exponent <= Math.ceil(Math.log10(max)); exponent++) {
    for (const mantissa of [1, 2, 5]) {
      const value = mantissa * 10 ** exponent;
      if (value >= min / 1.0001 && value <= max * 1.0001) ticks.push({ value, major: mantissa === 1 });
    }
  }
  return ticks;
}

const label = (value) => (value >= 1e6 ? `${value / 1e6}M` : value >= 1e3 ? `${value / 1e3}k` : `${value}`);

/**
 * series: [{ name, points: [[x, y], …], dashed? }]; both axes logarithmic.
 * Returns a standalone SVG document.
 */
export function lineChart({ title, xLabel, yLabel, series, width = 720, height = 420 }) {
  const margin = { top: 48, right: 190, bottom: 56, left: 70 };
  const points = series.flatMap((line) => line.points).filter(([x, y]) => x > 0 && y > 0);
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => y);
  const xMin = Math.min(...xs) / 1.5;
  const xMax = Math.max(...xs) * 1.5;
  const yMin = 10 ** Math.floor(Math.log10(Math.min(...ys)));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...ys)));
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const x = (value) => margin.left + ((Math.log10(value) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin))) * plotWidth;
  const y = (value) =>
    margin.top + plotHeight - ((Math.log10(value) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * plotHeight;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${margin.left}" y="28" font-size="16" font-weight="600">${escapeXml(title)}</text>`,
  ];
  for (const { value: tick } of logTicks(yMin, yMax)) {
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${y(tick)}" y2="${y(tick)}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${margin.left - 8}" y="${y(tick) + 4}" text-anchor="end" fill="#374151">${label(tick)}</text>`);
  }
  for (const { value: tick } of logTicks(xMin, xMax).filter((tick) => tick.major)) {
    parts.push(`<line x1="${x(tick)}" x2="${x(tick)}" y1="${margin.top}" y2="${margin.top + plotHeight}" stroke="#f3f4f6"/>`);
    parts.push(`<text x="${x(tick)}" y="${margin.top + plotHeight + 18}" text-anchor="middle" fill="#374151">${label(tick)}</text>`);
  }
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#9ca3af"/>`);
  parts.push(`<text x="${margin.left + plotWidth / 2}" y="${height - 14}" text-anchor="middle" fill="#111827">${escapeXml(xLabel)}</text>`);
  parts.push(
    `<text transform="translate(18 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle" fill="#111827">${escapeXml(yLabel)}</text>`,
  );
  series.forEach((line, index) => {
    const color = line.color ?? palette[index % palette.length];
    const valid = line.points.filter(([px, py]) => px > 0 && py > 0);
    if (valid.length === 0) return;
    const path = valid.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ');
    parts.push(
      `<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"${line.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    for (const [px, py] of valid)
      parts.push(
        `<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3.5" fill="${color}"><title>${escapeXml(`${line.name}: ${py} at ${label(px)}`)}</title></circle>`,
      );
    const legendY = margin.top + 8 + index * 20;
    parts.push(
      `<line x1="${width - margin.right + 14}" x2="${width - margin.right + 38}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2"${line.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    parts.push(`<text x="${width - margin.right + 44}" y="${legendY + 4}" fill="#111827">${escapeXml(line.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
