import t from 'tap';
import { encodeMultipart, encodeSubmitBody, encodeUrlencoded } from '../../../../src/mcp/fetch/index.js';

t.test('urlencoded: UTF-8, spaces as +, reserved characters escaped, order and repeats kept', async (t) => {
  t.equal(encodeUrlencoded([['a b', 'c&d=e'], ['a b', 'é€'], ['empty', '']]), 'a+b=c%26d%3De&a+b=%C3%A9%E2%82%AC&empty=');
  const body = encodeSubmitBody({ kind: 'urlencoded', fields: [['x', '1']] });
  t.equal(body.contentType, 'application/x-www-form-urlencoded');
  t.equal(new TextDecoder().decode(body.bytes), 'x=1');
});

t.test('multipart: framing, escaped names, binary data untouched', async (t) => {
  const data = new Uint8Array([0, 255, 13, 10, 45, 45]);
  const body = encodeMultipart(
    [
      { name: 'a"b\r\nc', value: 'välue' },
      { name: 'rec', filename: 'x"y.wav', contentType: 'audio/x-wav\r\nX-Injected: 1', data },
    ],
    'BOUNDARY',
  );
  t.equal(body.contentType, 'multipart/form-data; boundary=BOUNDARY');
  const expectedHead =
    '--BOUNDARY\r\nContent-Disposition: form-data; name="a%22b%0D%0Ac"\r\n\r\nvälue\r\n' +
    '--BOUNDARY\r\nContent-Disposition: form-data; name="rec"; filename="x%22y.wav"\r\nContent-Type: audio/x-wav X-Injected: 1\r\n\r\n';
  const head = new TextEncoder().encode(expectedHead);
  t.same(body.bytes.subarray(0, head.length), head);
  t.same(body.bytes.subarray(head.length, head.length + data.length), data);
  t.equal(new TextDecoder().decode(body.bytes.subarray(head.length + data.length)), '\r\n--BOUNDARY--\r\n');
  const random1 = encodeMultipart([]).contentType;
  const random2 = encodeMultipart([]).contentType;
  t.not(random1, random2, 'a fresh random boundary each time');
});
