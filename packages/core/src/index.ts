import { bytesToHex } from './bytes.ts';
export { bytesToHex };
export const VERSION: string = 'x';
