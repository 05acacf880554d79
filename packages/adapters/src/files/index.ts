export { checkIngestPaths } from './allowed-paths.js';
export type { IngestFilesOptions, IngestFilesReport } from './ingest-files.js';
export { globRegExp, ingestFiles, unpdfReader } from './ingest-files.js';
