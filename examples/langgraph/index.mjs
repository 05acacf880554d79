// LangGraph.js + Engram: a StateGraph agent that remembers user preferences across threads (and
// across restarts) through EngramStore, a LangGraph BaseStore on an Engram SQLite file.
// Runs offline: the chat model is LangChain's FakeListChatModel with scripted answers; the graph,
// the checkpointer and the store are the real ones.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngramStore } from '@engram/langgraph';
import { SystemMessage } from '@langchain/core/messages';
import { FakeListChatModel } from '@langchain/core/utils/testing';
import { MemorySaver, MessagesAnnotation, StateGraph } from '@langchain/langgraph';
import { hashEmbedder, Memory } from 'engram';

const folder = mkdtempSync(join(tmpdir(), 'engram-langgraph-'));
const path = join(folder, 'agent.db');

let lastRecalled = [];

/** The agent: recall memories for the user, answer with them in the prompt, store new preferences. */
function buildAgent(model) {
  async function callModel(state, config) {
    const store = config.store;
    const namespace = ['users', config.configurable.userId, 'preferences'];
    const lastMessage = state.messages.at(-1).content;

    const memories = await store.search(namespace, { query: lastMessage, limit: 3 });
    const recalled = memories.map((item) => item.value.text);
    console.log(`  recalled for "${lastMessage}": ${recalled.length ? recalled.map((text) => `"${text}"`).join(', ') : '(nothing)'}`);

    // A real agent would let the model decide (a tool, or a structured-output call); the rule keeps the recipe short.
    const preference = /^remember (?:that )?(.*)$/i.exec(lastMessage)?.[1];
    if (preference) await store.put(namespace, `preference-${Date.now()}`, { text: preference });

    const system = new SystemMessage(
      `You are a helpful assistant. What you know about the user:\n${recalled.join('\n') || '(nothing yet)'}`,
    );
    const response = await model.invoke([system, ...state.messages]);
    lastRecalled = recalled;
    return { messages: [response] };
  }
  return new StateGraph(MessagesAnnotation).addNode('agent', callModel).addEdge('__start__', 'agent').addEdge('agent', '__end__');
}

async function run(graph, threadId, text) {
  const config = { configurable: { thread_id: threadId, userId: 'ada' } };
  const result = await graph.invoke({ messages: [{ role: 'user', content: text }] }, config);
  console.log(`  [thread ${threadId}] user: ${text}\n  [thread ${threadId}] agent: ${result.messages.at(-1).content}`);
}

// A real application passes `new Memory()` (./.engram/memory.db, default embedder).
let memory = new Memory({ path, embedder: hashEmbedder() });
let store = new EngramStore({ memory, index: { fields: ['text'] } });
const model = new FakeListChatModel({
  responses: ['Noted: answers in metric units from now on.', 'Noted: you are vegetarian.', 'Lentil curry for 4: 400 g lentils, 1 l stock.'],
});

console.log('session 1');
let graph = buildAgent(model).compile({ checkpointer: new MemorySaver(), store });
await run(graph, 'monday', 'Remember that I want recipes in metric units');
await run(graph, 'tuesday', 'Remember I am vegetarian');
await memory.close();

console.log('session 2 (a new process would see the same: the store is a SQLite file)');
memory = new Memory({ path, embedder: hashEmbedder() });
store = new EngramStore({ memory, index: { fields: ['text'] } });
graph = buildAgent(model).compile({ checkpointer: new MemorySaver(), store });
await run(graph, 'friday', 'Suggest a dinner recipe for 4 people');
console.log(`  namespaces in the store: ${JSON.stringify(await store.listNamespaces())}`);
await memory.close();
rmSync(folder, { recursive: true, force: true });

if (!lastRecalled.includes('I am vegetarian')) throw new Error('the agent did not recall the preference from another thread');
