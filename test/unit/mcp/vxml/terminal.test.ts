import t from 'tap';
import { FakeScheduler } from '../../../../src/lib/index.js';
import { runInTerminal } from '../../../../src/mcp/vxml/index.js';
import { BASE, MemoryFetcher, vxml } from './fakes.js';

t.test('runInTerminal prints prompts, logs, inputs and the end; keys are DTMF, words are speech', async (t) => {
  const lines: string[] = [];
  const fetcher = new MemoryFetcher({
    'main.vxml': vxml(`<form>
      <field name="n" type="digits?length=2"><prompt>Two digits.</prompt></field>
      <field name="ok" type="boolean"><prompt>Sure?</prompt></field>
      <block><log>n=<value expr="n"/> ok=<value expr="ok"/></log><exit expr="'bye'"/></block></form>`),
  });
  const result = await runInTerminal({ url: `${BASE}main.vxml`, inputs: ['42', 'yes'], out: (l) => lines.push(l), fetcher, scheduler: new FakeScheduler() });
  t.same(lines, ['prompt: Two digits.', 'input: 42', 'prompt: Sure?', 'input: yes', 'log: n=42 ok=true', 'end: exit (value "bye")']);
  t.equal(result.exitValue, 'bye');
});
