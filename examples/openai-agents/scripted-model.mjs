// A Model for the OpenAI Agents SDK that plays a script instead of calling OpenAI: the SDK's own
// extension point for other model backends (`Model` / `ModelProvider`), used here to run offline.
import { Usage } from '@openai/agents';

export class ScriptedModel {
  /** @param turns functions from the model request to `{ text }` or `{ call: name, arguments }` */
  constructor(turns) {
    this.turns = [...turns];
    this.requests = [];
  }

  async getResponse(request) {
    this.requests.push(request);
    const turn = this.turns.shift();
    if (!turn) throw new Error('ScriptedModel: the agent asked for more turns than the script has');
    const step = turn(request);
    const output =
      'call' in step
        ? [
            {
              type: 'function_call',
              callId: `call-${this.requests.length}`,
              name: step.call,
              arguments: JSON.stringify(step.arguments),
              status: 'completed',
            },
          ]
        : [{ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: step.text }] }];
    return { usage: new Usage(), output, responseId: `scripted-${this.requests.length}` };
  }

  async *getStreamedResponse(request) {
    const response = await this.getResponse(request);
    yield { type: 'response_started' };
    for (const item of response.output) {
      if (item.type === 'message') yield { type: 'output_text_delta', delta: item.content[0].text };
    }
    yield {
      type: 'response_done',
      response: { id: response.responseId, usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0 }, output: response.output },
    };
  }
}

/** The output of the last tool call the agent fed back to the model. */
export function lastToolOutput(request) {
  const items = Array.isArray(request.input) ? request.input : [];
  const result = items.findLast((item) => item.type === 'function_call_result');
  const output = result?.output;
  return JSON.parse(typeof output === 'string' ? output : (output?.text ?? 'null'));
}
