// Types for gen-keccak-wasm.mjs, which test/keccak.test.ts imports to check the committed binary.
export declare const STATE_OFFSET: number;
export declare const INPUT_OFFSET: number;
export declare const RATE: number;
export declare const PAGES: number;
export declare const MAX_BLOCKS: number;
export declare const STATES_OFFSET: number;
export declare const STATES_BYTES: number;
export declare const OUTPUT_PATH: string;
export declare function roundConstants(): bigint[];
export declare function rotationOffsets(): number[];
export declare function keccakWat(): string;
export declare function compileKeccakWasm(wat?: string): Promise<Uint8Array>;
export declare function renderBinaryModule(bytes: Uint8Array): string;
