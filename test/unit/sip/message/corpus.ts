/**
 * Inline copies of the essential RFC 4475 cases (and a typical INVITE) so the unit tier keeps
 * its meaning without ../shared. Lines are joined with CRLF.
 */

export const crlf = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');

export const SDP = ['v=0', 'o=alice 2890844526 2890844526 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0', 'm=audio 49170 RTP/AVP 0 8 101', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=sendrecv', ''].join('\r\n');

export const INVITE = crlf(
  'INVITE sip:bob@biloxi.example.com SIP/2.0',
  'Via: SIP/2.0/UDP pc33.atlanta.example.com:5060;branch=z9hG4bK776asdhds;rport',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@biloxi.example.com>',
  'From: "Alice A." <sip:alice@atlanta.example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
  'CSeq: 314159 INVITE',
  'Contact: <sip:alice@pc33.atlanta.example.com;transport=udp>',
  'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK',
  'Supported: replaces, timer, 100rel',
  'User-Agent: opencx-bench/1.0',
  'Content-Type: application/sdp',
  `Content-Length: ${Buffer.byteLength(SDP)}`,
  '',
  SDP,
);

export const WSINV = crlf(
  'INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0',
  'TO :',
  ' sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n',
  'from   : "J Rosenberg \\\\\\""       <sip:jdrosen@example.com>',
  '  ;',
  '  tag = 98asjd8',
  'MaX-fOrWaRdS: 0068',
  'Call-ID: wsinv.ndaksdj@192.0.2.1',
  'Content-Length   : 150',
  'cseq: 0009',
  '  INVITE',
  'Via  : SIP  /   2.0',
  ' /UDP',
  '    192.0.2.2;branch=390skdjuw',
  's :',
  'NewFangledHeader:   newfangled value',
  ' continued newfangled value',
  'UnknownHeaderWithUnusualValue: ;;,,;;,;',
  'Content-Type: application/sdp',
  'Route:',
  ' <sip:services.example.com;lr;unknownwith=value;unknown-no-value>',
  'v:  SIP  / 2.0  / TCP     spindle.example.com   ;',
  '  branch  =   z9hG4bK9ikj8  ,',
  ' SIP  /    2.0   / UDP  192.168.255.111   ; branch=',
  ' z9hG4bK30239',
  'm:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =',
  '      newvalue ;',
  '  secondparam ; q = 0.33',
  '',
  'v=0',
  'o=mhandley 29739 7272939 IN IP4 192.0.2.3',
  's=-',
  'c=IN IP4 192.0.2.4',
  't=0 0',
  'm=audio 49217 RTP/AVP 0 12',
  'm=video 3227 RTP/AVP 31',
  'a=rtpmap:31 LPC',
  '',
);

/** name -> [bytes, expected status or 'ok'] */
export const ESSENTIAL: Record<string, [Buffer, number | 'ok']> = {
  wsinv: [WSINV, 'ok'],
  semiuri: [crlf('OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0', 'To: sip:j_user@example.com', 'From: sip:caller@example.org;tag=33242', 'Max-Forwards: 3', 'Call-ID: semiuri.0ha0isndaksdj', 'CSeq: 8 OPTIONS', 'Accept: application/sdp, application/pkcs7-mime,', '        multipart/mixed, multipart/signed,', '        message/sip, message/sipfrag', 'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw', 'l: 0', '', ''), 'ok'],
  dblreq: [crlf('REGISTER sip:example.com SIP/2.0', 'To: sip:j.user@example.com', 'From: sip:j.user@example.com;tag=43251j3j324', 'Max-Forwards: 8', 'I: dblreq.0ha0isndaksdj99sdfafnl3lk233412', 'Contact: sip:j.user@host.example.com', 'CSeq: 8 REGISTER', 'Via: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492', 'Content-Length: 0', '', '', 'INVITE sip:joe@example.com SIP/2.0', 't: sip:joe@example.com', '', ''), 'ok'],
  noreason: [crlf('SIP/2.0 100 ', 'Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe', 'Call-ID: noreason.asndj203insdf99223ndf', 'CSeq: 35 INVITE', 'From: <sip:user@example.com>;tag=39ansfi3', 'To: <sip:user@example.edu>;tag=902jndnke3', 'Content-Length: 0', '', ''), 'ok'],
  lwsdisp: [crlf('OPTIONS sip:user@example.com SIP/2.0', 'To: sip:user@example.com', 'From: caller<sip:caller@example.com>;tag=323', 'Max-Forwards: 70', 'Call-ID: lwsdisp.1234abcd@funky.example.com', 'CSeq: 60 OPTIONS', 'Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw', 'l: 0', '', ''), 'ok'],
  badinv01: [crlf('INVITE sip:user@example.com SIP/2.0', 'To: sip:j.user@example.com', 'From: sip:caller@example.net;tag=134161461246', 'Max-Forwards: 7', 'Call-ID: badinv01.0ha0isndaksdjasdf3234nas', 'CSeq: 8 INVITE', 'Via: SIP/2.0/UDP 192.0.2.15;;,;,,', 'Contact: "Joe" <sip:joe@example.org>;;;;', 'Content-Length: 0', '', ''), 400],
  clerr: [crlf('INVITE sip:user@example.com SIP/2.0', 'Max-Forwards: 80', 'To: sip:j.user@example.com', 'From: sip:caller@example.net;tag=93942939o2', 'Call-ID: clerr.0ha0isndaksdjweiafasdk3', 'CSeq: 8 INVITE', 'Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523', 'Content-Length: 9999', '', 'v=0', ''), 400],
  ncl: [crlf('INVITE sip:user@example.com SIP/2.0', 'Max-Forwards: 254', 'To: sip:j.user@example.com', 'From: sip:caller@example.net;tag=32394234', 'Call-ID: ncl.0ha0isndaksdj2193423r542w35', 'CSeq: 0 INVITE', 'Via: SIP/2.0/UDP 192.0.2.53;branch=z9hG4bKkdjuw', 'Content-Length: -999', '', 'v=0', ''), 400],
  scalar02: [crlf('REGISTER sip:example.com SIP/2.0', 'Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3', 'To: <sip:user@example.com>', 'From: <sip:user@example.com>;tag=239232jh3', 'CSeq: 36893488147419103232 REGISTER', 'Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32', 'Max-Forwards: 300', 'Content-Length: 0', '', ''), 400],
  quotbal: [crlf('INVITE sip:user@example.com SIP/2.0', 'To: "Mr. J. User <sip:j.user@example.com>', 'From: sip:caller@example.net;tag=93334', 'Max-Forwards: 10', 'Call-ID: quotbal.aksdj', 'CSeq: 8 INVITE', 'Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234', 'Content-Length: 0', '', ''), 400],
  ltgtruri: [crlf('INVITE <sip:user@example.com> SIP/2.0', 'To: sip:user@example.com', 'From: sip:caller@example.net;tag=39291', 'Max-Forwards: 23', 'Call-ID: ltgtruri.1@192.0.2.5', 'CSeq: 1 INVITE', 'Via: SIP/2.0/UDP 192.0.2.5', 'Content-Length: 0', '', ''), 400],
  lwsstart: [crlf('INVITE  sip:user@example.com  SIP/2.0', 'Max-Forwards: 8', 'To: sip:user@example.com', 'From: sip:caller@example.net;tag=8814', 'Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@example.com', 'CSeq: 1893884 INVITE', 'Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw3923', 'Content-Length: 0', '', ''), 400],
  regbadct: [crlf('REGISTER sip:example.com SIP/2.0', 'To: sip:user@example.com', 'From: sip:user@example.com;tag=998332', 'Max-Forwards: 70', 'Call-ID: regbadct.k345asrl3fdbv@10.0.0.1', 'CSeq: 1 REGISTER', 'Via: SIP/2.0/UDP 135.180.130.133:5060;branch=z9hG4bKkdjuw', 'Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E', 'l: 0', '', ''), 400],
  badaspec: [crlf('OPTIONS sip:user@example.org SIP/2.0', 'Via: SIP/2.0/UDP host4.example.com:5060;branch=z9hG4bKkdju43234', 'Max-Forwards: 70', 'From: "Bell, Alexander" <sip:a.g.bell@example.com>;tag=433423', 'To: "Watson, Thomas" < sip:t.watson@example.org >', 'Call-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3', 'CSeq: 3923239 OPTIONS', 'l: 0', '', ''), 400],
  baddn: [crlf('OPTIONS sip:t.watson@example.org SIP/2.0', 'Via:     SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKkdjuw', 'Max-Forwards:      70', 'From:    Bell, Alexander <sip:a.g.bell@example.com>;tag=43', 'To:      Watson, Thomas <sip:t.watson@example.org>', 'Call-ID: baddn.31415@c.example.com', 'CSeq:    3923239 OPTIONS', 'l: 0', ''), 400],
  badvers: [crlf('OPTIONS sip:t.watson@example.org SIP/7.0', 'Via:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw', 'Max-Forwards:     70', 'From:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe', 'To:      T. Watson <sip:t.watson@example.org>', 'Call-ID: badvers.31417@c.example.com', 'CSeq:    1 OPTIONS', 'l: 0', '', ''), 505],
  mismatch01: [crlf('OPTIONS sip:user@example.com SIP/2.0', 'To: sip:j.user@example.com', 'From: sip:caller@example.net;tag=34525', 'Max-Forwards: 6', 'Call-ID: mismatch01.dj0234sxdfl3', 'CSeq: 8 INVITE', 'Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw', 'l: 0', '', ''), 400],
  bigcode: [crlf('SIP/2.0 4294967301 better not break the receiver', 'Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe', 'Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i', 'CSeq: 353494 INVITE', 'From: <sip:user@example.com>;tag=39ansfi3', 'To: <sip:user@example.edu>;tag=902jndnke3', 'Content-Length: 0', '', ''), 400],
  escruri: [crlf('INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0', 'To: sip:user@example.com', 'From: sip:caller@example.net;tag=341518', 'Max-Forwards: 7', 'Call-ID: escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5', 'CSeq: 149209342 INVITE', 'Via: SIP/2.0/UDP host-of-the-hour.example.com;branch=z9hG4bKkdjuw', 'Content-Length: 0', '', ''), 400],
};

