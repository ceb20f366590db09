import { Devp2pError, ProtocolError, type RemoteContext } from '@devp2p/core';

/** Error code of an {@link EnrError}. */
export const ERR_ENR = 'ERR_ENR';
/** Error code of an {@link EnodeUrlError}. */
export const ERR_ENODE_URL = 'ERR_ENODE_URL';
/** Error code of a {@link NodeKeyError}. */
export const ERR_NODEKEY = 'ERR_NODEKEY';
/** A {@link NodeDatabaseError}: written by a newer schema than this build reads. */
export const ERR_NODEDB_VERSION = 'ERR_NODEDB_VERSION';
/** A {@link NodeDatabaseError}: the file is not a node database (bad magic or header). */
export const ERR_NODEDB_FORMAT = 'ERR_NODEDB_FORMAT';
/** A {@link NodeDatabaseError}: another live process (or this one) has it open. */
export const ERR_NODEDB_LOCKED = 'ERR_NODEDB_LOCKED';
/** A {@link NodeDatabaseError}: used after `close()`. */
export const ERR_NODEDB_CLOSED = 'ERR_NODEDB_CLOSED';

/**
 * A node record (EIP-778) that is malformed, too large, unsorted, or carries a bad signature. Records come
 * from the network, so this is a {@link ProtocolError} with the code `ERR_ENR`.
 * @example
 * try { Enr.decodeText(text) } catch (err) { if (err instanceof EnrError) console.warn(err.message) }
 */
export class EnrError extends ProtocolError {
  constructor(message: string, context: RemoteContext & { cause?: unknown } = {}) {
    super(ERR_ENR, message, context);
  }
}

/**
 * An `enode://` URL (or node address text) that does not parse; the message names the part that is wrong.
 * Code `ERR_ENODE_URL`.
 * @example
 * try { parseNode(flag) } catch (err) { if (err instanceof EnodeUrlError) exit(`--bootnodes: ${err.message}`) }
 */
export class EnodeUrlError extends Devp2pError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ERR_ENODE_URL, message, options);
  }
}

/**
 * Why a node database refused to open or to write:
 * - `ERR_NODEDB_VERSION`: written by a newer schema than this build reads.
 * - `ERR_NODEDB_FORMAT`: the file is not a node database (bad magic or header).
 * - `ERR_NODEDB_LOCKED`: another live process (or this one) has it open.
 * - `ERR_NODEDB_CLOSED`: used after `close()`.
 * @example if (err instanceof NodeDatabaseError && err.code === ERR_NODEDB_LOCKED) exit('datadir in use')
 */
export type NodeDatabaseErrorCode =
  | typeof ERR_NODEDB_VERSION
  | typeof ERR_NODEDB_FORMAT
  | typeof ERR_NODEDB_LOCKED
  | typeof ERR_NODEDB_CLOSED;

/**
 * A node database that cannot be opened or used; `code` says why (see {@link NodeDatabaseErrorCode}).
 * @example
 * try { openNodeDatabase(dir) } catch (err) { if (err instanceof NodeDatabaseError) console.error(err.code, err.message) }
 */
export class NodeDatabaseError extends Devp2pError {
  declare readonly code: NodeDatabaseErrorCode;
  constructor(code: NodeDatabaseErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * A node key file that is missing, unreadable or malformed. Code `ERR_NODEKEY`; the message names the file.
 * @example
 * try { loadNodeKey(path) } catch (err) { if (err instanceof NodeKeyError) exit(err.message) }
 */
export class NodeKeyError extends Devp2pError {
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(ERR_NODEKEY, `node key file ${path}: ${message}`, options);
    this.path = path;
  }
}
