import t from 'tap';
import { Metrics } from '../../../src/platform/index.js';

t.test('SIP counters in the text exposition', async (t) => {
  const m = new Metrics({ defaultMetrics: false });
  m.sip.request('INVITE', 'udp', 'in');
  m.sip.request('INVITE', 'udp', 'in');
  m.sip.request('OPTIONS', 'tcp', 'out');
  m.sip.request('FROBNICATE', 'udp', 'in');
  m.sip.request('XYZZY', 'udp', 'in');
  m.sip.response(200, 'INVITE', 'udp', 'out');
  m.sip.response(180, 'INVITE', 'udp', 'out');
  m.sip.response(486, 'INVITE', 'udp', 'out');
  m.sip.response(404, 'INVITE', 'udp', 'out');
  m.sip.response(999, 'BYE', 'ws', 'in');
  m.sip.parseError('udp');
  m.sip.parseError('udp');
  m.sip.parseError('carrier-pigeon');
  let active = 7;
  m.sip.setActiveTransactionsSource(() => active);

  const text = await m.text();
  t.match(text, /# TYPE sip_requests_total counter/);
  t.match(text, /sip_requests_total\{method="INVITE",transport="udp",direction="in"\} 2/);
  t.match(text, /sip_requests_total\{method="OPTIONS",transport="tcp",direction="out"\} 1/);
  t.match(text, /sip_requests_total\{method="OTHER",transport="udp",direction="in"\} 2/, 'unknown methods collapse into OTHER');
  t.notMatch(text, /FROBNICATE/);
  t.match(text, /sip_responses_total\{status_class="2xx",method="INVITE",transport="udp",direction="out"\} 1/);
  t.match(text, /sip_responses_total\{status_class="1xx",method="INVITE",transport="udp",direction="out"\} 1/);
  t.match(text, /sip_responses_total\{status_class="4xx",method="INVITE",transport="udp",direction="out"\} 2/);
  t.match(text, /sip_responses_total\{status_class="0xx",method="BYE",transport="ws",direction="in"\} 1/, 'out-of-range status');
  t.notMatch(text, /status_class="3xx"/, 'series appear only once used');
  t.match(text, /sip_parse_errors_total\{transport="udp"\} 2/);
  t.match(text, /sip_parse_errors_total\{transport="other"\} 1/);
  t.match(text, /# TYPE sip_transactions_active gauge/);
  t.match(text, /sip_transactions_active 7/);
  active = 3;
  t.match(await m.text(), /sip_transactions_active 3/, 'read at scrape time');
  // counts are handed to prom-client at scrape time: what came between two scrapes adds up once
  m.sip.request('INVITE', 'udp', 'in');
  m.sip.parseError('udp');
  const again = await m.text();
  t.match(again, /sip_requests_total\{method="INVITE",transport="udp",direction="in"\} 3/, 'counted since the last scrape, added once');
  t.match(again, /sip_parse_errors_total\{transport="udp"\} 3/);
  t.match(await m.text(), /sip_requests_total\{method="INVITE",transport="udp",direction="in"\} 3/, 'a scrape with nothing new changes nothing');
  m.sip.setActiveTransactionsSource(() => {
    throw new Error('broken source');
  });
  t.match(await m.text(), /sip_transactions_active 0/, 'a failing source does not break the scrape');
  t.match(m.contentType, /text\/plain/);
});

t.test('default process metrics, one registry per instance', async (t) => {
  const a = new Metrics();
  const b = new Metrics();
  a.sip.request('BYE', 'tls', 'in');
  t.match(await a.text(), /process_cpu_user_seconds_total/);
  t.match(await a.text(), /nodejs_eventloop_lag_seconds/);
  t.match(await a.text(), /method="BYE"/);
  t.notMatch(await b.text(), /method="BYE"/, 'registries are separate');
});
