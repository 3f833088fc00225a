// Fixture for native-udp.test: a cluster worker (or a plain child) that binds the shared port
// with reusePort + spreadOver and answers every datagram with its own name.
//   argv: <url of the compiled src/platform/net/index.js> <port> <spreadOver> <name>
const [moduleUrl, port, spreadOver, name] = process.argv.slice(2);
const { openUdpSocket } = await import(moduleUrl);
const socket = await openUdpSocket({ engine: 'native', address: '127.0.0.1', port: Number(port), reusePort: true, spreadOver: Number(spreadOver), recvBufferSize: 1 << 22 });
socket.onMessage((data, address, p) => socket.send(Buffer.from(name), p, address));
process.on('message', (m) => {
  if (m === 'close') void socket.close().then(() => process.disconnect());
});
process.send({ ready: socket.local.port });
