export {
  type AesBlockCipher,
  type AesCtrStream,
  aes128GcmDecrypt,
  aes128GcmEncrypt,
  aesCtr,
  CTR_JS_MAX_BYTES,
  createAes256Ecb,
  createAesCtr,
  GCM_TAG_LENGTH,
} from './aes.ts';
export { ECIES_OVERHEAD, type EciesEncryptOptions, eciesDecrypt, eciesEncrypt } from './ecies.ts';
export {
  concatKdf,
  createKeccak256,
  createKeccak256Portable,
  hkdfSha256,
  hmacSha256,
  type Keccak256Hasher,
  keccak256,
  keccak256Backend,
  keccak256Portable,
  sha256,
} from './hash.ts';
export { randomBytes } from './random.ts';
export {
  COMPRESSED_PUBLIC_KEY_LENGTH,
  compressPublicKey,
  decompressPublicKey,
  ecdhCompressed,
  ecdhX,
  generatePrivateKey,
  isValidPrivateKey,
  isValidPublicKey,
  PRIVATE_KEY_LENGTH,
  PUBLIC_KEY_LENGTH,
  publicKeyFromPrivate,
  recoverPublicKey,
  SIGNATURE_LENGTH,
  sign,
  verify,
} from './secp256k1.ts';
