// @ambient-ts/netns: the Linux socket calls Node.js lacks, for transparent capture (Istio ambient's in-pod
// mode): TCP and UDP sockets created inside another network namespace, the original destination of a redirected
// connection, SO_MARK, IP_TRANSPARENT / IP_FREEBIND, SO_REUSEPORT, and fds over SOCK_SEQPACKET (ZDS).
export { netnsSupport, type NetnsSupport, type AddressInfo } from './addon.ts';
export { NetnsError, isNetnsError, type NetnsErrorCode } from './errors.ts';
export {
  connectInNamespace,
  createSocketFd,
  fdOf,
  getMark,
  getSocketOption,
  listenFd,
  listenInNamespace,
  localAddressOf,
  namespaceId,
  originalDestination,
  setMark,
  type ConnectOptions,
  type ListenOptions,
  type OriginalDestination,
  type SocketOptions,
  type SocketTarget,
} from './sockets.ts';
export { bindUdpFd, bindUdpInNamespace, type UdpBindOptions } from './udp.ts';
export { SeqpacketServer, SeqpacketSocket, type SeqpacketMessage, type SeqpacketSocketEvents } from './seqpacket.ts';
