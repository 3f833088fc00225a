/** RTP/RTCP: packets, reports, statistics, ports, the UDP transport, the jitter buffer and the relay. */
export * from './rtp-packet.js';
export * from './rtcp.js';
export * from './stream-stats.js';
export * from './port-allocator.js';
export * from './udp-rtp-transport.js';
export * from './jitter-buffer.js';
export * from './rtp-relay.js';
