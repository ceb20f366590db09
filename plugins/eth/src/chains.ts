/**
 * Chain configurations: what the eth handshake needs to know about a network (its id, genesis and fork
 * schedule) and where a node finds its peers (bootnodes and DNS lists). The presets follow go-ethereum's
 * `params/config.go`, `core/genesis.go` and `params/bootnodes.go` (at commit 02b73d4ea7, August 2026).
 */
import { hexToBytes, MAX_UINT64 } from '@devp2p/core';

/**
 * One hard fork of a chain's schedule: activated at a block number (forks up to the Merge) or at a block
 * timestamp in seconds (Shanghai and later). Only the activation point enters the fork id; the name is for
 * humans.
 * @example const shanghai: Fork = { name: 'shanghai', time: 1681338455 }
 */
export type Fork = { readonly name: string; readonly block: number } | { readonly name: string; readonly time: number };

/**
 * A network as the eth protocol sees it.
 * @example const cfg: ChainConfig = mainnet; console.log(cfg.networkId) // 1n
 */
export interface ChainConfig {
  /** For logs and `nodeInfo` only. */
  readonly name: string;
  /** The network id in Status (uint64). */
  readonly networkId: bigint;
  /** Hash of the genesis block (32 bytes). */
  readonly genesisHash: Uint8Array;
  /** Timestamp of the genesis block; timestamp forks at or before it are not part of the fork id. */
  readonly genesisTime: number;
  /** Total difficulty of the genesis block: what a node with no chain reports in eth/68's Status. */
  readonly genesisDifficulty: bigint;
  /** The hard forks, in any order; those at block 0 or at / before the genesis time are not counted. */
  readonly forks: readonly Fork[];
  /** Where a node of this network finds peers; empty lists for a custom network. */
  readonly discovery: ChainDiscovery;
}

/**
 * A network's entry points for discovery, as geth ships them: discv4 bootnodes (`enode://` URLs), discv5 bootnodes
 * (`enr:` records) and EIP-1459 DNS trees (`enrtree://` URLs).
 * @example createNode({ bootnodes: sepolia.discovery.bootnodes })
 */
export interface ChainDiscovery {
  readonly bootnodes: readonly string[];
  readonly bootnodesV5: readonly string[];
  readonly dnsTrees: readonly string[];
}

/** Options of {@link customChain}. */
export interface CustomChainOptions {
  readonly name?: string;
  readonly networkId: number | bigint;
  /** 32 bytes, or their hex (with or without 0x). */
  readonly genesisHash: Uint8Array | string;
  /** Default 0. */
  readonly genesisTime?: number;
  /** Default 1 (a typical local proof-of-stake genesis). */
  readonly genesisDifficulty?: bigint;
  /** Default none: every rule active from genesis. */
  readonly forks?: readonly Fork[];
  /** Default: no bootnodes and no DNS trees. */
  readonly discovery?: Partial<ChainDiscovery>;
}

/**
 * A chain configuration for a network without a preset (a local devnet, a private network). Throws a
 * TypeError or RangeError for a network id outside uint64, a genesis hash that is not 32 bytes, or a fork
 * whose block or time is not a non-negative safe integer.
 * @example
 * const devnet = customChain({ networkId: 1337, genesisHash: '0x' + 'ab'.repeat(32), forks: [{ name: 'prague', time: 0 }] })
 */
export function customChain(options: CustomChainOptions): ChainConfig {
  const networkId = BigInt(options.networkId);
  if (networkId < 0n || networkId > MAX_UINT64)
    throw new RangeError(`customChain: networkId ${networkId} is outside uint64`);
  const genesisHash =
    typeof options.genesisHash === 'string' ? hexToBytes(options.genesisHash, 'genesisHash') : options.genesisHash;
  if (!(genesisHash instanceof Uint8Array) || genesisHash.length !== 32) {
    throw new TypeError('customChain: genesisHash must be 32 bytes');
  }
  const genesisTime = options.genesisTime ?? 0;
  checkPoint(genesisTime, 'genesisTime');
  const genesisDifficulty = options.genesisDifficulty ?? 1n;
  if (typeof genesisDifficulty !== 'bigint' || genesisDifficulty < 0n) {
    throw new RangeError('customChain: genesisDifficulty must be a non-negative bigint');
  }
  const forks = (options.forks ?? []).map((fork) => {
    if ('block' in fork) checkPoint(fork.block, `fork ${fork.name}.block`);
    else checkPoint(fork.time, `fork ${fork.name}.time`);
    return Object.freeze({ ...fork });
  });
  return Object.freeze({
    name: options.name ?? 'custom',
    networkId,
    genesisHash: Uint8Array.from(genesisHash),
    genesisTime,
    genesisDifficulty,
    forks: Object.freeze(forks),
    discovery: Object.freeze({
      bootnodes: Object.freeze([...(options.discovery?.bootnodes ?? [])]),
      bootnodesV5: Object.freeze([...(options.discovery?.bootnodesV5 ?? [])]),
      dnsTrees: Object.freeze([...(options.discovery?.dnsTrees ?? [])]),
    }),
  });
}

function checkPoint(value: number, label: string): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`customChain: ${label} must be a non-negative safe integer`);
}

// Discovery entry points, from go-ethereum's params/bootnodes.go (02b73d4ea7): the Ethereum Foundation's and
// client teams' bootnodes, and the EF's DNS trees (`enrtree://...@all.<network>.ethdisco.net`).

/** geth's `MainnetBootnodes`: Ethereum Foundation bootnodes (AWS ap-southeast-1 and us-east-1, Hetzner hel and fsn). */
const MAINNET_BOOTNODES: readonly string[] = [
  'enode://d860a01f9722d78051619d1e2351aba3f43f943f6f00718d1b9baa4101932a1f5011f16bb2b1bb35db20d6fe28fa0bf09636d26a87d31de9ec6203eeedb1f666@18.138.108.67:30303',
  'enode://22a8232c3abc76a16ae9d6c3b164f98775fe226f0917b0ca871128a74a8e9630b458460865bab457221f1d448dd9791d24c4e5d88786180ac185df813a68d4de@3.209.45.79:30303',
  'enode://2b252ab6a1d0f971d9722cb839a42cb81db019ba44c08754628ab4a823487071b5695317c8ccd085219c3a03af063495b2f1da8d18218da2d6a82981b45e6ffc@65.108.70.101:30303',
  'enode://4aeb4ab6c14b23e2c4cfdce879c04b0748a20d8e9b59e25ded2a08143e265c6c25936e74cbc8e641e3312ca288673d91f2f93f8e277de3cfa444ecdaaf982052@157.90.35.166:30303',
];

/** geth's `SepoliaBootnodes`: EF DevOps (nyc3, sfo3, syd1, blr1, ams3). */
const SEPOLIA_BOOTNODES: readonly string[] = [
  'enode://4e5e92199ee224a01932a377160aa432f31d0b351f84ab413a8e0a42f4f36476f8fb1cbe914af0d9aef0d51665c214cf653c651c4bbd9d5550a934f241f1682b@138.197.51.181:30303',
  'enode://143e11fb766781d22d92a2e33f8f104cddae4411a122295ed1fdb6638de96a6ce65f5b7c964ba3763bba27961738fef7d3ecc739268f3e5e771fb4c87b6234ba@146.190.1.103:30303',
  'enode://8b61dc2d06c3f96fddcbebb0efb29d60d3598650275dc469c22229d3e5620369b0d3dedafd929835fe7f489618f19f456fe7c0df572bf2d914a9f4e006f783a9@170.64.250.88:30303',
  'enode://10d62eff032205fcef19497f35ca8477bea0eadfff6d769a147e895d8b2b8f8ae6341630c645c30f5df6e67547c03494ced3d9c5764e8622a26587b083b028e8@139.59.49.206:30303',
  'enode://9e9492e2e8836114cc75f5b929784f4f46c324ad01daf87d956f98b3b6c5fcba95524d6e5cf9861dc96a2c8a171ea7105bb554a197455058de185fa870970c7c@138.68.123.152:30303',
];

/** geth's `HoodiBootnodes`: EF DevOps. */
const HOODI_BOOTNODES: readonly string[] = [
  'enode://2112dd3839dd752813d4df7f40936f06829fc54c0e051a93967c26e5f5d27d99d886b57b4ffcc3c475e930ec9e79c56ef1dbb7d86ca5ee83a9d2ccf36e5c240c@134.209.138.84:30303',
  'enode://60203fcb3524e07c5df60a14ae1c9c5b24023ea5d47463dfae051d2c9f3219f309657537576090ca0ae641f73d419f53d8e8000d7a464319d4784acd7d2abc41@209.38.124.160:30303',
  'enode://8ae4a48101b2299597341263da0deb47cc38aa4d3ef4b7430b897d49bfa10eb1ccfe1655679b1ed46928ef177fbf21b86837bd724400196c508427a6f41602cd@134.199.184.23:30303',
];

/** geth's `V5Bootnodes`, used for every network: Teku, Prysm, Lighthouse, EF and Nimbus bootnodes. */
const V5_BOOTNODES: readonly string[] = [
  'enr:-KG4QMOEswP62yzDjSwWS4YEjtTZ5PO6r65CPqYBkgTTkrpaedQ8uEUo1uMALtJIvb2w_WWEVmg5yt1UAuK1ftxUU7QDhGV0aDKQu6TalgMAAAD__________4JpZIJ2NIJpcIQEnfA2iXNlY3AyNTZrMaEDfol8oLr6XJ7FsdAYE7lpJhKMls4G_v6qQOGKJUWGb_uDdGNwgiMog3VkcIIjKA',
  'enr:-KG4QF4B5WrlFcRhUU6dZETwY5ZzAXnA0vGC__L1Kdw602nDZwXSTs5RFXFIFUnbQJmhNGVU6OIX7KVrCSTODsz1tK4DhGV0aDKQu6TalgMAAAD__________4JpZIJ2NIJpcIQExNYEiXNlY3AyNTZrMaECQmM9vp7KhaXhI-nqL_R0ovULLCFSFTa9CPPSdb1zPX6DdGNwgiMog3VkcIIjKA',
  'enr:-Ku4QImhMc1z8yCiNJ1TyUxdcfNucje3BGwEHzodEZUan8PherEo4sF7pPHPSIB1NNuSg5fZy7qFsjmUKs2ea1Whi0EBh2F0dG5ldHOIAAAAAAAAAACEZXRoMpD1pf1CAAAAAP__________gmlkgnY0gmlwhBLf22SJc2VjcDI1NmsxoQOVphkDqal4QzPMksc5wnpuC3gvSC8AfbFOnZY_On34wIN1ZHCCIyg',
  'enr:-Ku4QP2xDnEtUXIjzJ_DhlCRN9SN99RYQPJL92TMlSv7U5C1YnYLjwOQHgZIUXw6c-BvRg2Yc2QsZxxoS_pPRVe0yK8Bh2F0dG5ldHOIAAAAAAAAAACEZXRoMpD1pf1CAAAAAP__________gmlkgnY0gmlwhBLf22SJc2VjcDI1NmsxoQMeFF5GrS7UZpAH2Ly84aLK-TyvH-dRo0JM1i8yygH50YN1ZHCCJxA',
  'enr:-Ku4QPp9z1W4tAO8Ber_NQierYaOStqhDqQdOPY3bB3jDgkjcbk6YrEnVYIiCBbTxuar3CzS528d2iE7TdJsrL-dEKoBh2F0dG5ldHOIAAAAAAAAAACEZXRoMpD1pf1CAAAAAP__________gmlkgnY0gmlwhBLf22SJc2VjcDI1NmsxoQMw5fqqkw2hHC4F5HZZDPsNmPdB1Gi8JPQK7pRc9XHh-oN1ZHCCKvg',
  'enr:-Le4QPUXJS2BTORXxyx2Ia-9ae4YqA_JWX3ssj4E_J-3z1A-HmFGrU8BpvpqhNabayXeOZ2Nq_sbeDgtzMJpLLnXFgAChGV0aDKQtTA_KgEAAAAAIgEAAAAAAIJpZIJ2NIJpcISsaa0Zg2lwNpAkAIkHAAAAAPA8kv_-awoTiXNlY3AyNTZrMaEDHAD2JKYevx89W0CcFJFiskdcEzkH_Wdv9iW42qLK79ODdWRwgiMohHVkcDaCI4I',
  'enr:-Le4QLHZDSvkLfqgEo8IWGG96h6mxwe_PsggC20CL3neLBjfXLGAQFOPSltZ7oP6ol54OvaNqO02Rnvb8YmDR274uq8ChGV0aDKQtTA_KgEAAAAAIgEAAAAAAIJpZIJ2NIJpcISLosQxg2lwNpAqAX4AAAAAAPA8kv_-ax65iXNlY3AyNTZrMaEDBJj7_dLFACaxBfaI8KZTh_SSJUjhyAyfshimvSqo22WDdWRwgiMohHVkcDaCI4I',
  'enr:-Le4QH6LQrusDbAHPjU_HcKOuMeXfdEB5NJyXgHWFadfHgiySqeDyusQMvfphdYWOzuSZO9Uq2AMRJR5O4ip7OvVma8BhGV0aDKQtTA_KgEAAAAAIgEAAAAAAIJpZIJ2NIJpcISLY9ncg2lwNpAkAh8AgQIBAAAAAAAAAAmXiXNlY3AyNTZrMaECDYCZTZEksF-kmgPholqgVt8IXr-8L7Nu7YrZ7HUpgxmDdWRwgiMohHVkcDaCI4I',
  'enr:-Le4QIqLuWybHNONr933Lk0dcMmAB5WgvGKRyDihy1wHDIVlNuuztX62W51voT4I8qD34GcTEOTmag1bcdZ_8aaT4NUBhGV0aDKQtTA_KgEAAAAAIgEAAAAAAIJpZIJ2NIJpcISLY04ng2lwNpAkAh8AgAIBAAAAAAAAAA-fiXNlY3AyNTZrMaEDscnRV6n1m-D9ID5UsURk0jsoKNXt1TIrj8uKOGW6iluDdWRwgiMohHVkcDaCI4I',
  'enr:-Ku4QHqVeJ8PPICcWk1vSn_XcSkjOkNiTg6Fmii5j6vUQgvzMc9L1goFnLKgXqBJspJjIsB91LTOleFmyWWrFVATGngBh2F0dG5ldHOIAAAAAAAAAACEZXRoMpC1MD8qAAAAAP__________gmlkgnY0gmlwhAMRHkWJc2VjcDI1NmsxoQKLVXFOhp2uX6jeT0DvvDpPcU8FWMjQdR4wMuORMhpX24N1ZHCCIyg',
  'enr:-Ku4QG-2_Md3sZIAUebGYT6g0SMskIml77l6yR-M_JXc-UdNHCmHQeOiMLbylPejyJsdAPsTHJyjJB2sYGDLe0dn8uYBh2F0dG5ldHOIAAAAAAAAAACEZXRoMpC1MD8qAAAAAP__________gmlkgnY0gmlwhBLY-NyJc2VjcDI1NmsxoQORcM6e19T1T9gi7jxEZjk_sjVLGFscUNqAY9obgZaxbIN1ZHCCIyg',
  'enr:-Ku4QPn5eVhcoF1opaFEvg1b6JNFD2rqVkHQ8HApOKK61OIcIXD127bKWgAtbwI7pnxx6cDyk_nI88TrZKQaGMZj0q0Bh2F0dG5ldHOIAAAAAAAAAACEZXRoMpC1MD8qAAAAAP__________gmlkgnY0gmlwhDayLMaJc2VjcDI1NmsxoQK2sBOLGcUb4AwuYzFuAVCaNHA-dy24UuEKkeFNgCVCsIN1ZHCCIyg',
  'enr:-Ku4QEWzdnVtXc2Q0ZVigfCGggOVB2Vc1ZCPEc6j21NIFLODSJbvNaef1g4PxhPwl_3kax86YPheFUSLXPRs98vvYsoBh2F0dG5ldHOIAAAAAAAAAACEZXRoMpC1MD8qAAAAAP__________gmlkgnY0gmlwhDZBrP2Jc2VjcDI1NmsxoQM6jr8Rb1ktLEsVcKAPa08wCsKUmvoQ8khiOl_SLozf9IN1ZHCCIyg',
  'enr:-LK4QA8FfhaAjlb_BXsXxSfiysR7R52Nhi9JBt4F8SPssu8hdE1BXQQEtVDC3qStCW60LSO7hEsVHv5zm8_6Vnjhcn0Bh2F0dG5ldHOIAAAAAAAAAACEZXRoMpC1MD8qAAAAAP__________gmlkgnY0gmlwhAN4aBKJc2VjcDI1NmsxoQJerDhsJ-KxZ8sHySMOCmTO6sHM3iCFQ6VMvLTe948MyYN0Y3CCI4yDdWRwgiOM',
  'enr:-LK4QKWrXTpV9T78hNG6s8AM6IO4XH9kFT91uZtFg1GcsJ6dKovDOr1jtAAFPnS2lvNltkOGA9k29BUN7lFh_sjuc9QBh2F0dG5ldHOIAAAAAAAAAACEZXRoMpC1MD8qAAAAAP__________gmlkgnY0gmlwhANAdd-Jc2VjcDI1NmsxoQLQa6ai7y9PMN5hpLe5HmiJSlYzMuzP7ZhwRiwHvqNXdoN0Y3CCI4yDdWRwgiOM',
];

/** The key that signs the EF's DNS trees (geth's `dnsPrefix`). */
const ETHDISCO_TREE_PREFIX = 'enrtree://AKA3AM6LPBYEUDMVNU3BSVQJ5AD45Y7YPOHJLEF6W26QOE4VTUDPE@';

/** The EF's DNS tree of all nodes of `network` (geth's `KnownDNSNetwork(genesis, "all")`). */
const ethdiscoTree = (network: string): string => `${ETHDISCO_TREE_PREFIX}all.${network}.ethdisco.net`;

const block = (name: string, at: number): Fork => ({ name, block: at });
const time = (name: string, at: number): Fork => ({ name, time: at });

/**
 * Ethereum mainnet: network id 1, the Frontier genesis, forks from Homestead (block 1,150,000) to BPO2
 * (time 1767747671), as in go-ethereum's `MainnetChainConfig`.
 * @example forkId(mainnet, { number: 0n, time: 0 }) // { hash: 0xfc64ec04, next: 1150000n }
 */
export const mainnet: ChainConfig = customChain({
  name: 'mainnet',
  networkId: 1,
  genesisHash: 'd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3',
  genesisTime: 0,
  genesisDifficulty: 17_179_869_184n,
  forks: [
    block('homestead', 1_150_000),
    block('dao', 1_920_000),
    block('tangerineWhistle', 2_463_000),
    block('spuriousDragon', 2_675_000),
    block('byzantium', 4_370_000),
    block('constantinople', 7_280_000),
    block('petersburg', 7_280_000),
    block('istanbul', 9_069_000),
    block('muirGlacier', 9_200_000),
    block('berlin', 12_244_000),
    block('london', 12_965_000),
    block('arrowGlacier', 13_773_000),
    block('grayGlacier', 15_050_000),
    time('shanghai', 1_681_338_455),
    time('cancun', 1_710_338_135),
    time('prague', 1_746_612_311),
    time('osaka', 1_764_798_551),
    time('bpo1', 1_765_290_071),
    time('bpo2', 1_767_747_671),
  ],
  discovery: { bootnodes: MAINNET_BOOTNODES, bootnodesV5: V5_BOOTNODES, dnsTrees: [ethdiscoTree('mainnet')] },
});

/**
 * The Sepolia testnet: network id 11155111; every block fork at genesis, the Merge netsplit block 1,735,371,
 * then timestamp forks from Shanghai to BPO2.
 * @example forkId(sepolia, { number: 0n, time: 0 }) // { hash: 0xfe3366e7, next: 1735371n }
 */
export const sepolia: ChainConfig = customChain({
  name: 'sepolia',
  networkId: 11_155_111,
  genesisHash: '25a5cc106eea7138acab33231d7160d69cb777ee0c2c553fcddf5138993e6dd9',
  genesisTime: 1_633_267_481,
  genesisDifficulty: 0x20000n,
  forks: [
    block('mergeNetsplit', 1_735_371),
    time('shanghai', 1_677_557_088),
    time('cancun', 1_706_655_072),
    time('prague', 1_741_159_776),
    time('osaka', 1_760_427_360),
    time('bpo1', 1_761_017_184),
    time('bpo2', 1_761_607_008),
  ],
  discovery: { bootnodes: SEPOLIA_BOOTNODES, bootnodesV5: V5_BOOTNODES, dnsTrees: [ethdiscoTree('sepolia')] },
});

/**
 * The Hoodi testnet: network id 560048; Shanghai and Cancun active at genesis, then Prague to BPO2.
 * @example forkId(hoodi, { number: 0n, time: 0 }) // { hash: 0xbef71d30, next: 1742999832n }
 */
export const hoodi: ChainConfig = customChain({
  name: 'hoodi',
  networkId: 560_048,
  genesisHash: 'bbe312868b376a3001692a646dd2d7d1e4406380dfd86b98aa8a34d1557c971b',
  genesisTime: 1_742_212_800,
  genesisDifficulty: 1n,
  forks: [
    time('shanghai', 0),
    time('cancun', 0),
    time('prague', 1_742_999_832),
    time('osaka', 1_761_677_592),
    time('bpo1', 1_762_365_720),
    time('bpo2', 1_762_955_544),
  ],
  discovery: { bootnodes: HOODI_BOOTNODES, bootnodesV5: V5_BOOTNODES, dnsTrees: [ethdiscoTree('hoodi')] },
});
