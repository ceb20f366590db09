import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { Devp2pError } from '@devp2p/core';
import { ping } from '@devp2p/plugin-ping';
import { until } from '@devp2p/test-utils';
import { udpTransport } from '@devp2p/transport-node';
import { createNode } from '../src/index.ts';
import { ERR_UPNP, UpnpClient } from '../src/nat/upnp.ts';

interface SoapCall {
  readonly action: string;
  readonly args: Record<string, string>;
}

/** An Internet Gateway Device on 127.0.0.1: an SSDP responder and an HTTP server with a description and SOAP. */
async function fakeGateway(options: { fault?: string } = {}) {
  const calls: SoapCall[] = [];
  const http = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/rootDesc.xml') {
        res.end(`<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device>
          <deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
          <deviceList><device><deviceList><device><serviceList>
            <service><serviceType>urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1</serviceType><controlURL>/other</controlURL></service>
            <service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType><controlURL>/ctl/IPConn</controlURL></service>
          </serviceList></device></deviceList></device></deviceList></device></root>`);
        return;
      }
      const action = /#(\w+)"?$/.exec(String(req.headers.soapaction))?.[1] ?? '';
      const args: Record<string, string> = {};
      for (const m of body.matchAll(/<(New\w+)>([^<]*)<\/\1>/g)) args[m[1]!] = m[2]!;
      calls.push({ action, args });
      if (options.fault && action === 'AddPortMapping') {
        res.statusCode = 500;
        res.end(
          `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>718</errorCode><errorDescription>${options.fault}</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>`,
        );
        return;
      }
      const extra = action === 'GetExternalIPAddress' ? '<NewExternalIPAddress>203.0.113.8</NewExternalIPAddress>' : '';
      res.end(
        `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:${action}Response xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1">${extra}</u:${action}Response></s:Body></s:Envelope>`,
      );
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const location = `http://127.0.0.1:${(http.address() as AddressInfo).port}/rootDesc.xml`;
  const ssdp = createSocket('udp4');
  const searches: string[] = [];
  ssdp.on('message', (msg, from) => {
    searches.push(String(msg));
    ssdp.send(
      `HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nLOCATION: ${location}\r\n\r\n`,
      from.port,
      from.address,
    );
  });
  await new Promise<void>((resolve) => ssdp.bind(0, '127.0.0.1', resolve));
  return {
    calls,
    searches,
    location,
    ssdpTarget: { host: '127.0.0.1', port: ssdp.address().port },
    close: async () => {
      ssdp.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

describe('UPnP IGD client', () => {
  it('finds the gateway by SSDP, reads its WAN service, maps and deletes ports naming their protocol', async () => {
    const gateway = await fakeGateway();
    try {
      const client = await UpnpClient.discover(udpTransport, { target: gateway.ssdpTarget, timeoutMs: 2_000 });
      assert.ok(client, 'the gateway was found');
      assert.match(gateway.searches[0]!, /^M-SEARCH \* HTTP\/1\.1\r\n/);
      assert.match(gateway.searches[0]!, /ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1/);
      assert.equal(await client.externalAddress(), '203.0.113.8');
      await client.map('udp', 30303, 30303, 600);
      await client.map('udp', 30303, 0, 0);
      const [, add, del] = gateway.calls;
      assert.deepEqual(add, {
        action: 'AddPortMapping',
        args: {
          NewRemoteHost: '',
          NewExternalPort: '30303',
          NewProtocol: 'UDP',
          NewInternalPort: '30303',
          NewInternalClient: '127.0.0.1',
          NewEnabled: '1',
          NewPortMappingDescription: 'devp2p.ts UDP 30303',
          NewLeaseDuration: '600',
        },
      });
      assert.deepEqual(del, {
        action: 'DeletePortMapping',
        args: { NewRemoteHost: '', NewExternalPort: '30303', NewProtocol: 'UDP' },
      });
    } finally {
      await gateway.close();
    }
  });

  it("turns a SOAP fault into a typed error with the gateway's reason; no gateway is undefined", async () => {
    const gateway = await fakeGateway({ fault: 'ConflictInMappingEntry' });
    try {
      const client = await UpnpClient.fromDescription(new URL(gateway.location));
      await assert.rejects(
        client!.map('tcp', 1, 1, 60),
        (e: unknown) => e instanceof Devp2pError && e.code === ERR_UPNP && /ConflictInMappingEntry/.test(e.message),
      );
      const silent = createSocket('udp4');
      await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
      const none = await UpnpClient.discover(udpTransport, {
        target: { host: '127.0.0.1', port: silent.address().port },
        timeoutMs: 200,
      });
      silent.close();
      assert.equal(none, undefined);
    } finally {
      await gateway.close();
    }
  });

  it('createNode({ nat: { upnp } }) maps TCP and UDP, announces the external IP, and deletes both on close', async () => {
    const gateway = await fakeGateway();
    const node = createNode({
      listenAddr: '127.0.0.1:0',
      protocols: [ping],
      bootnodes: [],
      nat: { upnp: gateway.location },
    });
    await node.start();
    const port = node.server.listenAddress!.port;
    try {
      await until(
        () =>
          node.localNode.node.ip === '203.0.113.8' &&
          gateway.calls.filter((c) => c.action === 'AddPortMapping').length === 2,
        5_000,
        'the external IP and both mappings',
      );
    } finally {
      await node.close();
    }
    const deleted = gateway.calls
      .filter((c) => c.action === 'DeletePortMapping')
      .map((c) => c.args.NewProtocol)
      .sort();
    assert.deepEqual(deleted, ['TCP', 'UDP']);
    assert.ok(gateway.calls.every((c) => c.action !== 'AddPortMapping' || c.args.NewInternalPort === String(port)));
    await gateway.close();
  });
});
