export type { JsonlArchiveOptions } from './jsonl-archive.js';
export { archivePathFor, jsonlArchive } from './jsonl-archive.js';
