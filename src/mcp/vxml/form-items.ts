/**
 * The form items that leave the FIA's ordinary collect phase: <subdialog> (VoiceXML 2.0
 * §2.3.4), <record> (§2.3.6) and <transfer> (§2.3.7, 2.1 §9).
 */
import { attr, childElements } from './dom.js';
import type { XmlElement } from './dom.js';
import { resolveUri, splitFragment } from './documents.js';
import type { FormRunner } from './fia.js';
import { parseTime } from './properties.js';
import { ExitSignal, TransitionSignal, VxmlEvent } from './signals.js';
import type { TransferType } from './platform.js';

export async function runSubdialog(form: FormRunner, item: XmlElement): Promise<void> {
  const s = form.s;
  const ex = s.executor;
  const src = ex.attrOrExpr(item, 'src', 'srcexpr');
  if (src === undefined) throw new VxmlEvent('error.badfetch', '<subdialog> without src');
  const params: Record<string, unknown> = {};
  const namelist = attr(item, 'namelist');
  if (namelist !== undefined) Object.assign(params, ex.namelistValues(namelist));
  for (const p of childElements(item, 'param')) {
    const name = attr(p, 'name');
    if (name === undefined) continue;
    const expr = attr(p, 'expr');
    params[name] = expr !== undefined ? ex.evaluate(expr) : attr(p, 'value');
  }
  const abs = src.startsWith('#') ? `${s.doc?.url ?? s.baseUri()}${src}` : resolveUri(src, s.baseUri());
  const { doc, fragment } = splitFragment(abs);
  const target = new TransitionSignal(doc, fragment);
  const method = (attr(item, 'method') ?? 'get').toUpperCase() === 'POST' ? 'POST' : 'GET';
  const loaded = await s.fetchTarget(
    namelist !== undefined && method === 'POST'
      ? new TransitionSignal(doc, fragment, undefined, { method, enctype: attr(item, 'enctype') ?? 'application/x-www-form-urlencoded', fields: Object.entries(ex.namelistValues(namelist)).map(([name, value]) => ({ name, value })) })
      : target,
  );
  const saved = { doc: s.doc, appRoot: s.appRoot, form: s.form, properties: s.properties };
  s.sandbox.saveContext();
  s.appRoot = undefined;
  let end;
  try {
    end = await s.runContext(target, loaded, params);
  } finally {
    if (s.sandboxOrUndefined !== undefined) s.sandbox.restoreContext();
    s.doc = saved.doc;
    s.appRoot = saved.appRoot;
    s.form = saved.form;
    s.properties = saved.properties;
  }
  // a subdialog that runs off the end of its document without <return> ends the session, as any document does
  if (end.kind !== 'return') throw new ExitSignal(undefined, undefined);
  if (end.signal.event !== undefined) throw new VxmlEvent(end.signal.event, end.signal.message);
  const name = form.nameOfItem(item);
  form.setItem(name, end.signal.values);
  form.justFilled.add(name);
  await form.runFilled();
}

let recordingSeq = 0;

export async function runRecord(form: FormRunner, item: XmlElement): Promise<void> {
  const s = form.s;
  const abort = new AbortController();
  const result = await s.platform.record(
    {
      beep: attr(item, 'beep') === 'true',
      maxtimeMs: parseTime(attr(item, 'maxtime')) ?? 60_000,
      finalsilenceMs: parseTime(attr(item, 'finalsilence')) ?? 3000,
      dtmfterm: attr(item, 'dtmfterm') !== 'false',
      type: attr(item, 'type') ?? 'audio/x-wav',
      prompts: s.takePrompts(),
    },
    abort.signal,
  );
  const name = form.nameOfItem(item);
  if (result.audio.byteLength === 0 && !result.hangup) throw new VxmlEvent('noinput');
  s.steps = 0;
  const ref = `recording-${++recordingSeq}`;
  s.recordings.set(ref, { data: result.audio, type: result.type });
  form.setItem(name, { audioRef: ref, type: result.type, size: result.audio.byteLength, duration: result.durationMs });
  s.sandbox.declareValue(`${name}$`, { duration: result.durationMs, size: result.audio.byteLength, termchar: result.termchar ?? null, maxtime: result.maxtime }, 'dialog');
  if (result.hangup) throw new VxmlEvent('connection.disconnect.hangup', 'the caller hung up during the recording');
  form.justFilled.add(name);
  await form.runFilled();
}

export async function runTransfer(form: FormRunner, item: XmlElement): Promise<void> {
  const s = form.s;
  const ex = s.executor;
  const dest = ex.attrOrExpr(item, 'dest', 'destexpr');
  const typeAttr = attr(item, 'type');
  const type: TransferType = typeAttr === 'bridge' || typeAttr === 'consultation' || typeAttr === 'blind' ? typeAttr : attr(item, 'bridge') === 'true' ? 'bridge' : 'blind';
  if (dest === undefined) throw new VxmlEvent('error.semantic', '<transfer> without dest');
  const aai = ex.attrOrExpr(item, 'aai', 'aaiexpr');
  const transferaudio = attr(item, 'transferaudio');
  const result = await s.platform.transfer(
    {
      type,
      dest,
      connecttimeoutMs: parseTime(attr(item, 'connecttimeout')) ?? 30_000,
      maxtimeMs: parseTime(attr(item, 'maxtime')) ?? 0,
      ...(aai !== undefined ? { aai } : {}),
      ...(transferaudio !== undefined ? { transferaudio: resolveUri(transferaudio, s.baseUri()) } : {}),
      prompts: s.takePrompts(),
    },
    new AbortController().signal,
  );
  if (result.unsupported !== undefined) throw new VxmlEvent(`error.unsupported.transfer.${type}`, result.unsupported);
  const name = form.nameOfItem(item);
  // §2.3.7.2.2: the caller hanging up during a bridged transfer leaves the item unfilled
  if (s.collector.hungUp) throw new VxmlEvent('connection.disconnect.hangup', 'the caller hung up during the transfer');
  if (result.outcome === 'transferred') {
    s.transferred = true;
    throw new VxmlEvent('connection.disconnect.transfer', `transferred to ${dest}`);
  }
  form.setItem(name, result.outcome);
  s.sandbox.declareValue(`${name}$`, { duration: result.durationMs / 1000 }, 'dialog');
  form.justFilled.add(name);
  await form.runFilled();
}
