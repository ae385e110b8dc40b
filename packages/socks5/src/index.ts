// @ambient-ts/socks5 — SOCKS5 CONNECT (RFC 1928) as ztunnel serves it on 15080: the server handshake (no
// auth, CONNECT, IPv4/IPv6/domain; reply 0.0.0.0:0) and a client that binds the caller's source IP.
export { acceptSocks5, answerSocks5, socksReply, SocksError, type SocksTarget } from './server.ts';
export { socksConnect, socksReplyMeaning, SocksConnectError, type SocksConnectOptions } from './client.ts';
