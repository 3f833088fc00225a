export type { UdpSocket, UdpEngine, UdpStats, UdpMessageHandler, OpenUdpSocketOptions } from './types.js';
export { openUdpSocket } from './open-udp-socket.js';
export { nativeUdpAvailable, udpPacerStats, type NativeUdpStatus, type UdpPacerStats } from './native-addon.js';
export { PeerAddressCache, formatIpv6 } from './address-cache.js';
