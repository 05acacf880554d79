export type { McpServerArguments, ParsedCommand } from './cli.js';
export { parseCommandLine, USAGE, UsageError } from './cli.js';
export type { EngramMcpConfig, Environment, ResolvedConfig } from './config.js';
export { DEFAULT_PATH, resolveConfig } from './config.js';
export { createMemory } from './create-memory.js';
export type { EngramMcpServerOptions } from './engram-mcp-server.js';
export { createEngramMcpServer, TOOLS } from './engram-mcp-server.js';
export type {
  ClaudeCodeHookEventName,
  ClaudeCodeHooksResult,
  HookChange,
  InstallClaudeCodeHooksOptions,
} from './hooks/claude-code-settings.js';
export { HOOK_TIMEOUT_SECONDS, installClaudeCodeHooks, settingsPathFor, uninstallClaudeCodeHooks } from './hooks/claude-code-settings.js';
export type { HarvestItem, HarvestOptions, HarvestResult } from './hooks/harvest.js';
export { harvestTranscript, MAX_HARVEST_CHARACTERS } from './hooks/harvest.js';
export type { HookRunner, HookRunnerOptions } from './hooks/hook-runner.js';
export { resolveHookRunner } from './hooks/hook-runner.js';
export { projectOf, projectTag } from './hooks/project.js';
export type { ClaudeCodeHookEvent, ClaudeCodeHookResult, RunClaudeCodeHookOptions } from './hooks/run-claude-code-hook.js';
export { CLAUDE_CODE_HOOK_EVENTS, HOOK_DEADLINE_MS, runClaudeCodeHook } from './hooks/run-claude-code-hook.js';
export type { SessionNotes, TranscriptMessage } from './hooks/transcript.js';
export { extractSessionNotes, readTranscript } from './hooks/transcript.js';
export { memoryGuide, SERVER_INSTRUCTIONS } from './memory-guide.js';
export type { MemorySource } from './memory-source.js';
export type { CommandLineIo } from './run-command-line.js';
export { describeHooksInstall, ENGRAM_MCP_BIN_SCRIPT, runMcpCommandLine } from './run-command-line.js';
export type { McpServerHandle, StartMcpServerOptions } from './start-mcp-server.js';
export { DEFAULT_HTTP_HOST, DEFAULT_HTTP_PORT, startMcpServer } from './start-mcp-server.js';
export { COMPAT_TOOL_NAMES, splitTimeExpression } from './tools/compat-tools.js';
export type { ScopeDefaults } from './tools/tool-kit.js';
export { MCP_PATH } from './transports/http-transport.js';
export { VERSION } from './version.js';
