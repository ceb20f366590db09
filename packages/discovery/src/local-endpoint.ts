/**
 * What a discovery service tells our record once its socket is bound (geth sets the same fallbacks in
 * `p2p.Server.setupUDPListening` and `LocalNode`).
 */
import { isUnspecifiedIp, type LocalNode, parseIp } from '@devp2p/enode';

/**
 * Announces the bound UDP port, and the bound host when it is a specific address. Bound to every interface with no
 * address known yet, announces loopback, as geth's LocalNode does, so a record never carries an empty IP.
 * @example announceBoundEndpoint(localNode, '0.0.0.0', socket.address.port)
 */
export function announceBoundEndpoint(localNode: LocalNode, host: string, port: number): void {
  localNode.setFallbackUdp(port);
  const hostBytes = parseIp(host);
  if (hostBytes && !isUnspecifiedIp(hostBytes)) localNode.setFallbackIp(host);
  else if (localNode.node.ip === undefined) localNode.setFallbackIp(hostBytes?.length === 16 ? '::1' : '127.0.0.1');
}
