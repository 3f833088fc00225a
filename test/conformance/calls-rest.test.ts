/**
 * REST call control on a real call: click-to-dial rings alice's baresip, then connects her to bob's
 * baresip; the call is listed, held (bob hears music on hold instead of alice), recorded, released,
 * and hung up over the API; both phones see the BYE and a CDR is written.
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { toneWav } from '../helpers/baresip.js';
import { startPbx } from '../helpers/pbx.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('click-to-dial, list, hold, record and hang up over REST', async (t) => {
  const pbx = await startPbx(t, ['alice', 'bob']);
  if (pbx === undefined) return;
  const server = pbx.server;
  const base = `http://127.0.0.1:${server.ports.http}/api/v1`;
  const key = readFileSync(path.join(server.dataDir, 'api-key'), 'utf8').trim();
  const api = async (method: string, url: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res = await fetch(base + url, { method, headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
  };
  const tone = path.join(pbx.work, 'tone.wav');
  writeFileSync(tone, toneWav(700, 60));
  const alice = await pbx.phone('alice', { answer: true, audioSource: tone });
  const bob = await pbx.phone('bob', { answer: true, audioSource: tone });

  t.equal((await api('GET', '/calls')).status, 200, 'GET /calls answers');
  t.equal((await fetch(`${base}/calls`)).status, 401, 'no API key: 401');
  const bad = await api('POST', '/calls', { from: 'nobody', to: 'bob@127.0.0.1' });
  t.equal(bad.status, 400, 'a "from" that is no user@domain: 400');
  const unknown = await api('POST', '/calls', { from: 'carol@127.0.0.1', to: 'bob@127.0.0.1' });
  t.equal(unknown.status, 404, 'an unknown originator: 404');

  const created = await api('POST', '/calls', { from: 'alice@127.0.0.1', to: 'bob@127.0.0.1' });
  t.equal(created.status, 201, `click-to-dial accepted: ${JSON.stringify(created.json)}`);
  const id = created.json.id as string;
  t.ok(await alice.waitFor(/Call established/, 15000), 'alice answered first');
  t.ok(await bob.waitFor(/Call established/, 15000), 'then bob answered');
  await sleep(500);
  const listed = await api('GET', '/calls');
  const items = listed.json.items as { id: string; state: string }[];
  t.same(items.map((c) => [c.id, c.state]), [[id, 'answered']], 'the call is listed as answered');

  const held = await api('POST', `/calls/${id}/hold`, { hold: true });
  t.equal(held.status, 200, 'hold accepted');
  t.equal(held.json.state, 'held', 'the call is held');
  const retrieved = await api('POST', `/calls/${id}/hold`, { hold: false });
  t.equal(retrieved.json.state, 'answered', 'and retrieved');

  const rec = await api('POST', `/calls/${id}/recording`, { record: true });
  t.equal(rec.status, 200, 'recording started');
  t.match(rec.json.key, /^recordings\//, 'recording key returned');
  await sleep(1500);
  const stopped = await api('POST', `/calls/${id}/recording`, { record: false });
  t.equal(stopped.status, 200, 'recording stopped');
  const dtmf = await api('POST', `/calls/${id}/dtmf`, { digits: '12#' });
  t.equal(dtmf.status, 200, 'DTMF sent into the call');

  const hung = await api('DELETE', `/calls/${id}`);
  t.equal(hung.status, 204, 'hang up over the API');
  t.ok(await alice.waitFor(/BYE sip:alice/, 10000), 'alice got a BYE');
  t.ok(await bob.waitFor(/BYE sip:bob/, 10000), 'bob got a BYE');
  t.equal((await api('GET', `/calls/${id}`)).status, 404, 'the call is gone');
  await sleep(300);
  const cdrs = await api('GET', `/cdrs/${id}`);
  t.equal(cdrs.status, 200, 'CDRs for the call exist');
  const recs = cdrs.json as unknown as { kind: string; callId: string; sipStatus: number; hangupBy: string }[];
  t.ok(Array.isArray(recs), 'GET /cdrs/{callId} answers a list');
  t.same(recs.map((r) => r.kind).sort(), ['call', 'leg', 'leg'], 'one call record and one per leg');
  t.ok(recs.every((r) => r.callId === id), 'all for this call');
  t.match(recs.find((r) => r.kind === 'call'), { sipStatus: 200, hangupBy: 'system' }, 'ended normally, by the API (stored as system)');
  await pbx.assertIdle(t);
  t.same(pbx.errors(), [], 'opencx logged no errors');
});
