import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { ApiError, api } from './api';

export const RELATION_TYPES = ['related', 'contradicts', 'causes', 'fixes', 'supports', 'follows'] as const;

/** Edge colours, shared by the graph and the legend (each passes 3:1 against white). */
export const RELATION_COLOURS: Record<string, string> = {
  related: '#5b6475',
  contradicts: '#c0271b',
  causes: '#a34f00',
  fixes: '#137333',
  supports: '#1f5fbf',
  follows: '#7b3fa6',
};

export function relationColour(type: string): string {
  return RELATION_COLOURS[type] ?? '#444b57';
}

export function formatDate(value: string | null | undefined): string {
  if (!value) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatBytes(bytes: number | null): string {
  if (bytes === null) return 'not a local file';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return `${error.message}${error.field ? ` (field: ${error.field})` : ''}`;
  return error instanceof Error ? error.message : String(error);
}

export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {errorText(error)}
    </p>
  );
}

export function TypeBadge({ type, subtype }: { type: string; subtype?: string | null }) {
  return (
    <span class={`badge type-${type}`}>
      {type}
      {subtype ? ` / ${subtype}` : ''}
    </span>
  );
}

/** A horizontal bar for a 0–1 value; the number is always shown as text too. */
export function ScoreBar({ value, label, max = 1 }: { value: number; label: string; max?: number }) {
  const share = max > 0 ? Math.max(0, Math.min(1, value / max)) : 0;
  return (
    <span class="score">
      <meter min={0} max={max} value={value} aria-label={label} title={`${label}: ${value.toFixed(3)}`} />
      <span class="score-value">{value.toFixed(3)}</span>
      <span class="visually-hidden">{`${Math.round(share * 100)}%`}</span>
    </span>
  );
}

/** A count shown as a bar in a table cell. */
export function CountBar({ count, max }: { count: number; max: number }) {
  const width = max > 0 && count > 0 ? Math.max(2, Math.round((count / max) * 100)) : 0;
  return (
    <span class="count-bar">
      <svg class="count-bar-fill" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">
        <rect width={width} height="10" />
      </svg>
      <span>{count.toLocaleString()}</span>
    </span>
  );
}

/**
 * A modal confirmation (the native <dialog>: focus is trapped and Escape cancels). `onConfirm`
 * runs when the user accepts; the dialog closes either way.
 */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) element.showModal();
    if (!open && element.open) element.close();
  }, [open]);
  return (
    <dialog ref={dialog} aria-labelledby="confirm-title" onCancel={onCancel} onClose={() => open && onCancel()}>
      <h2 id="confirm-title">{title}</h2>
      <div>{children}</div>
      <div class="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={onConfirm}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

export function shortId(id: string): string {
  return id.length > 13 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id;
}

export function preview(content: string, length = 120): string {
  return content.length > length ? `${content.slice(0, length - 1)}…` : content;
}

/** The page heading: focusable (not tabbable) so navigation can move focus to it. */
export function PageTitle({ children }: { children: ComponentChildren }) {
  return <h1 tabIndex={-1}>{children}</h1>;
}

/** The base types, for filter menus (GET /api/types, fetched once). */
let typesPromise: Promise<string[]> | undefined;
export function baseTypes(): Promise<string[]> {
  typesPromise ??= api.types().then((result) => result.types.map((entry) => entry.type));
  return typesPromise;
}
