/** This package's version, sent in our Hello (a test keeps it equal to package.json's). */
export const VERSION = '0.0.0';

interface RuntimeGlobals {
  readonly Bun?: { readonly version: string };
  readonly Deno?: { readonly version: { readonly deno: string } };
  readonly process?: { readonly platform?: string; readonly arch?: string; readonly versions?: { node?: string } };
}

/**
 * Our Hello client name, shaped like geth's `Geth/v1.x.y-stable/linux-amd64/go1.x`:
 * `devp2p.ts[/<identity>]/v<version>/<os>-<arch>/<runtime><version>`, e.g. `devp2p.ts/v0.1.0/linux-x64/node20.20.2`.
 * Peers and crawlers read it to tell clients, versions and runtimes apart.
 * @example createServer({ privateKey, name: clientName('my-node') })
 */
export function clientName(identity?: string): string {
  const g = globalThis as RuntimeGlobals;
  const runtime = g.Bun
    ? `bun${g.Bun.version}`
    : g.Deno
      ? `deno${g.Deno.version.deno}`
      : g.process?.versions?.node
        ? `node${g.process.versions.node}`
        : 'js';
  const platform = `${g.process?.platform ?? 'unknown'}-${g.process?.arch ?? 'unknown'}`;
  return ['devp2p.ts', ...(identity ? [identity] : []), `v${VERSION}`, platform, runtime].join('/');
}
