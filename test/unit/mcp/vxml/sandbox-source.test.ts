import t from 'tap';
import { FakeScheduler } from '../../../../src/lib/index.js';
import { ScriptError, ScriptSandbox } from '../../../../src/mcp/script/index.js';
import { VoiceXmlSession } from '../../../../src/mcp/vxml/session.js';
import { BASE, FakePlatform, MemoryFetcher, settle, vxml } from './fakes.js';

const MAIN = vxml('<var name="x" expr="20 + 22"/><form><block><prompt><value expr="x"/></prompt></block></form>');

function closedError(sandbox: ScriptSandbox): unknown {
  try {
    sandbox.evaluate('1');
  } catch (err) {
    return err;
  }
  return undefined;
}

t.test('a session runs its scripts in the sandbox it is handed, and closes it at the end', async (t) => {
  const platform = new FakePlatform([]);
  const made: ScriptSandbox[] = [];
  const session = new VoiceXmlSession({
    platform,
    fetcher: new MemoryFetcher({ 'main.vxml': MAIN }),
    scheduler: new FakeScheduler(),
    sandbox: async () => {
      const s = await ScriptSandbox.create();
      made.push(s);
      return s;
    },
  });
  const result = await session.run(BASE + 'main.vxml');
  t.equal(result.reason, 'exit');
  t.same(platform.prompts, ['42']);
  t.equal(made.length, 1);
  const err = closedError(made[0] as ScriptSandbox);
  t.ok(err instanceof ScriptError && err.kind === 'closed', 'the session closed the sandbox');
});

t.test('a session closed while its sandbox is being made frees it and ends as a hangup', async (t) => {
  const platform = new FakePlatform([]);
  let release: (s: ScriptSandbox) => void = () => undefined;
  const session = new VoiceXmlSession({
    platform,
    fetcher: new MemoryFetcher({ 'main.vxml': MAIN }),
    scheduler: new FakeScheduler(),
    sandbox: () => new Promise<ScriptSandbox>((resolve) => (release = resolve)),
  });
  const running = session.run(BASE + 'main.vxml');
  await settle(2);
  session.close();
  const sandbox = await ScriptSandbox.create();
  release(sandbox);
  const result = await running;
  t.equal(result.reason, 'hangup');
  t.same(platform.prompts, []);
  const err = closedError(sandbox);
  t.ok(err instanceof ScriptError && err.kind === 'closed', 'the late sandbox was closed, not leaked');
});
