// The REST suite's load generator when wrk is installed (`apt-get install wrk`; the suite falls back
// to autocannon, bench/lib/load-generator.mjs, without it). wrk is C on epoll: it spends 0.02–0.09 ms
// of CPU a request (get to search, at 10k memories) where autocannon spends 0.08–0.14, and on a
// two-core machine the difference is CPU the servers under test get back.
//
// Same interface as the autocannon generator: `run(url, route, { duration } or { amount })` answers with a summary
// shaped like autocannon's (requests.total, duration, latency.p99, errors, timeouts, non2xx), the
// responses' latencies, wrk's CPU time and (wrk has no garbage collector) no pauses. Each request
// is made afresh by a Lua script (a new query, a new memory, another id), as the autocannon one.
//
// Latencies: wrk keeps a histogram of every response (1 µs buckets) but hands Lua only its
// quantiles, so the script prints 1,000 of them (the 0.05th, 0.15th, …, 99.95th percentile) and
// `latencies` spreads them over the slice's responses — one value per response, which the suite
// pools over slices as it does autocannon's. A pooled p99 is exact to a thousandth of a slice.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const QUANTILES = 1000;

/** wrk's version line when it is on the PATH, else null. */
export function wrkVersion() {
  const probe = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (probe.error) return null;
  const match = /wrk\s+(\S+)/.exec(`${probe.stdout}${probe.stderr}`);
  return match ? match[1] : 'unknown';
}

/** A Lua long string holding `text` verbatim (no escapes to get wrong). */
function luaString(text) {
  let level = 1;
  while (text.includes(`]${'='.repeat(level)}]`)) level += 1;
  const equals = '='.repeat(level);
  return `[${equals}[${text}]${equals}]`;
}

/** The Lua script: one request per route, made afresh each time; `done` prints a JSON line. */
function script(queries, ids) {
  const searchBodies = queries.map((query) => luaString(JSON.stringify({ query, limit: 10 })));
  const addTails = queries.map((query) => luaString(`${JSON.stringify(query).slice(1, -1)}"}`));
  const getPaths = ids.map((id) => luaString(`/api/memories/${encodeURIComponent(id)}`));
  return `
local searchBodies = { ${searchBodies.join(',\n')} }
local addTails = { ${addTails.join(',\n')} }
local getPaths = { ${getPaths.join(',\n')} }
local headers = { ["content-type"] = "application/json" }
local route = "search"
local counter = 0

function init(args)
  route = args[1]
  counter = tonumber(args[2])
  -- A run of a fixed number of requests (a warm-up): the thread stops at that many responses.
  -- Only then is there a response() (wrk hands every response to Lua when there is one).
  local limit = tonumber(args[3])
  if limit > 0 then
    local seen = 0
    response = function()
      seen = seen + 1
      if seen >= limit then wrk.thread:stop() end
    end
  end
end

function request()
  counter = counter + 1
  if route == "search" then
    return wrk.format("POST", "/api/search", headers, searchBodies[(counter % #searchBodies) + 1])
  elseif route == "add" then
    local body = '{"content":"bench rest write ' .. counter .. ' ' .. addTails[(counter % #addTails) + 1]
    return wrk.format("POST", "/api/memories", headers, body)
  else
    return wrk.format("GET", getPaths[(counter % #getPaths) + 1], nil, nil)
  end
end

function done(summary, latency, requests)
  local stat = io.open("/proc/self/stat", "r")
  local cpuTicks = -1
  if stat then
    local line = stat:read("*l")
    stat:close()
    local fields = {}
    for field in string.gmatch(string.sub(line, string.find(line, ") ", 1, true) + 2), "%S+") do
      fields[#fields + 1] = field
    end
    cpuTicks = tonumber(fields[12]) + tonumber(fields[13])
  end
  local quantiles = {}
  for i = 0, ${QUANTILES - 1} do
    quantiles[#quantiles + 1] = latency:percentile((i + 0.5) * ${100 / QUANTILES})
  end
  local errors = summary.errors
  io.write(string.format(
    'ENGRAM_WRK {"requests":%d,"durationUs":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p99Us":%d,"cpuTicks":%d,"quantilesUs":[%s]}\\n',
    summary.requests, summary.duration, errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(99), cpuTicks, table.concat(quantiles, ",")))
end
`;
}

const clockTicks = 100;

/** Starts the wrk generator: writes its Lua script; `run()` loads a server's route for a time. */
export function startWrkGenerator(queries, ids, { connections }) {
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-wrk-'));
  const scriptPath = join(directory, 'requests.lua');
  writeFileSync(scriptPath, script(queries, ids));
  // Every run starts its counter a long way past the last one's: adds stay distinct memories
  // (the same content twice would be a duplicate, another path) and queries keep rotating.
  let runs = 0;
  return {
    name: `wrk ${wrkVersion()}`,
    run: (url, route, { duration, amount } = {}) =>
      new Promise((resolve, reject) => {
        // wrk has no request count: for a fixed number (a warm-up) the script stops the thread at
        // that many responses, and wrk waits out the rest of a time long enough for them.
        const limit = duration === undefined ? (amount ?? 200) : 0;
        const seconds = duration ?? Math.max(1, Math.ceil(limit / 250));
        runs += 1;
        const offset = runs * 10_000_000;
        const child = spawn(
          'wrk',
          [
            '-t1',
            `-c${connections}`,
            `-d${seconds}s`,
            '--timeout',
            '10s',
            '-s',
            scriptPath,
            url,
            '--',
            route,
            String(offset),
            String(limit),
          ],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let output = '';
        let errorOutput = '';
        child.stdout.setEncoding('utf8').on('data', (chunk) => {
          output += chunk;
        });
        child.stderr.setEncoding('utf8').on('data', (chunk) => {
          errorOutput += chunk;
        });
        child.on('error', reject);
        child.on('exit', (code) => {
          const line = output.split('\n').find((text) => text.startsWith('ENGRAM_WRK '));
          if (code !== 0 || !line) {
            reject(new Error(`wrk exited (${code}) without a summary: ${errorOutput || output}`));
            return;
          }
          const summary = JSON.parse(line.slice('ENGRAM_WRK '.length));
          const total = summary.requests;
          const latencies = new Array(total);
          for (let index = 0; index < total; index++)
            latencies[index] = summary.quantilesUs[Math.floor((index * QUANTILES) / total)] / 1000;
          resolve({
            result: {
              requests: { total },
              duration: summary.durationUs / 1e6,
              latency: { p99: summary.p99Us / 1000 },
              errors: summary.connect + summary.read + summary.write,
              timeouts: summary.timeout,
              non2xx: summary.status,
            },
            latencies,
            cpuMs: summary.cpuTicks < 0 ? 0 : (summary.cpuTicks * 1000) / clockTicks,
            gc: null,
          });
        });
      }),
    stop: () => rmSync(directory, { recursive: true, force: true }),
  };
}
