// Output of bench/media-relay/run.mjs: the verdict per step, the Markdown table and the summary.
import fs from 'node:fs';
import os from 'node:os';

export const LOSS_LIMIT_PCT = 0.1;
export const JITTER_LIMIT_MS = 5;

export const fmt = (v, d = 0) => (Number.isFinite(v) ? v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '–');

export function judge(row, base) {
  if (row.skipped || row.error) return;
  row.baseP99 = base?.p99 ?? NaN;
  row.addedP99 = Number.isFinite(row.baseP99) ? row.p99 - row.baseP99 : row.p99;
  row.addedP99Corr = row.p99Corr - (base?.p99Corr ?? NaN);
  const reasons = [];
  if (!(row.lossPct < LOSS_LIMIT_PCT)) reasons.push(`loss ${fmt(row.lossPct, 3)} %`);
  if (row.bad) reasons.push(`${row.bad} wrong packets`);
  if (row.deadStreams) reasons.push(`${row.deadStreams} stream directions received nothing`);
  // a starved generator (it skipped sending to catch up) measures itself, not the engine: such a
  // step is void (neither pass nor an engine failure) unless the engine also lost or broke packets
  const invalid = Boolean(row.skippedMs || base?.skippedMs || base?.error);
  if (!invalid && !(row.addedP99 < JITTER_LIMIT_MS)) reasons.push(`added p99 ${fmt(row.addedP99, 2)} ms`);
  row.void = invalid && reasons.length === 0;
  row.pass = !invalid && reasons.length === 0;
  if (invalid) reasons.push(`generator could not keep up (skipped sending${base?.skippedMs ? ' in the baseline' : ''}): step void`);
  if (reasons.length) row.note += `${reasons.join(', ')}; `;
  if (base && !base.error && !(base.lossPct < LOSS_LIMIT_PCT)) row.note += 'the baseline lost packets too: generator-limited; ';
}

export function table(rows) {
  const out = [
    '| engine | streams | loss % (A→B / B→A) | p99 \\|Δ−20 ms\\| ms | added p99 ms | p99 \\|Δrecv−Δsend\\| ms (added) | p99 one-way delay ms | engine CPU % of a core | % core per 100 streams | CPU µs/packet | RSS MB | load CPU % | system busy % | RcvbufErrors Δ | received (A→B, B→A) | pass | notes |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    if (r.skipped || r.error) {
      out.push(`| ${r.engine} | ${fmt(r.streams)} | | | | | | | | | | | | | | ${r.engine === 'baseline' ? '' : 'NO'} | ${(r.error ?? r.note).replace(/\|/g, '/')} |`);
      continue;
    }
    const base = r.engine === 'baseline';
    out.push(`| ${r.engine} | ${fmt(r.streams)} | ${fmt(r.lossPct, 3)} (${fmt(r.lossAbPct, 3)} / ${fmt(r.lossBaPct, 3)}) | ${fmt(r.p99, 2)} | ${base ? '' : fmt(r.addedP99, 2)} | ` +
      `${fmt(r.p99Corr, 2)}${base || !Number.isFinite(r.p99Corr) ? '' : ` (${fmt(r.addedP99Corr, 2)})`} | ${fmt(r.p99Delay, 2)} | ` +
      `${base ? '' : fmt(r.engineCpuPct, 1)} | ${base ? '' : fmt(r.cpuPctPer100, 2)} | ${base ? '' : fmt(r.cpuUsPerPacket, 1)} | ${base ? '' : fmt(r.rssKb / 1024, 1)} | ` +
      `${fmt(r.loadCpuPct, 0)} | ${fmt(r.systemBusy, 0)} | ${fmt(r.rcvbufErrors)} | ${r.rxAb}, ${r.rxBa} | ${base ? (r.lossPct < LOSS_LIMIT_PCT ? 'ok' : 'LOSSY') : r.pass ? 'yes' : r.void ? 'void' : 'NO'} | ` +
      `${(r.note + (r.lateTicks ? `generator late ticks ${r.lateTicks} (max ${fmt(r.maxLateMs, 1)} ms)${r.skippedMs ? `, skipped ${fmt(r.skippedMs)} ms of sending` : ''}; ` : '') + (r.dup ? `${r.dup} duplicates; ` : '') + (r.rtcp ? `${r.rtcp} RTCP packets from the engine (not counted); ` : '') + (r.sendErrors ? `${r.sendErrors} send errors; ` : '')).trim()} |`);
  }
  return out.join('\n');
}

export function summary(mode, rows, engines) {
  const best = {};
  const lines = [];
  for (const e of engines) {
    const mine = rows.filter((r) => r.engine === e.name && r.mode === mode);
    const na = mine.length && mine.every((r) => r.error || r.skipped) ? (mine[0].error ?? mine[0].note) : null;
    const passing = mine.filter((r) => r.pass).sort((a, b) => b.streams - a.streams);
    const top = passing[0];
    const largest = mine.filter((r) => !r.error && !r.skipped && Number.isFinite(r.rssKb)).sort((a, b) => b.streams - a.streams)[0];
    best[e.name] = na ? 'n/a' : top ? top.streams : 0;
    const rssPer100 = top && Number.isFinite(top.rssKb) ? ((top.rssKb - e.idleRssKb) / top.streams) * 100 / 1024 : NaN;
    const perCore = top && top.engineCpuPct > 0 ? top.streams / (top.engineCpuPct / 100) : NaN;
    lines.push(`- **${e.name}**: ${na ? `n/a (${na.split('\n')[0]})` : top ? `highest passing ${top.streams} streams at ${fmt(top.engineCpuPct, 1)} % of a core ` +
      `(${fmt(top.cpuPctPer100, 2)} % per 100 streams, ${fmt(top.cpuUsPerPacket, 1)} µs per relayed packet; ≈ ${fmt(perCore)} streams per core by CPU); ` +
      `RSS idle ${fmt(e.idleRssKb / 1024, 1)} MB, ${fmt(top.rssKb / 1024, 1)} MB at ${top.streams} streams → ${fmt(rssPer100, 2)} MB per 100 streams` : 'no step passed'}` +
      `${largest && largest !== top ? `; largest step run: ${largest.streams} streams, RSS ${fmt(largest.rssKb / 1024, 1)} MB (${fmt(((largest.rssKb - e.idleRssKb) / largest.streams) * 100 / 1024, 2)} MB per 100 streams over idle), ${fmt(largest.cpuUsPerPacket, 1)} µs per packet` : ''}.`);
  }
  const o = best.opencx;
  const r = best.rtpengine;
  const ratio = typeof o === 'number' && typeof r === 'number' && r > 0 ? fmt(o / r, 2) : 'n/a';
  const parts = engines.map((e) => `${e.name} ${best[e.name]}`);
  lines.unshift(`**highest passing (${mode}): ${parts.join(', ')}${engines.length === 2 ? `, ratio ${ratio}` : ''}**`, '');
  return lines.join('\n');
}

export function machineInfo() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  return {
    nproc: os.availableParallelism(),
    model: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? 'unknown',
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
  };
}
