// index.ts is the package's one entry point: `import { Geecache } from 'geecache'`. What is exported here is the
// public API; README.md says which of it is stable.
export { Geecache, CacheGroup } from './geecache.js';
export type { GeecacheOptions, GroupDefinition, KubernetesPeers, NodeStats, ServerInit } from './geecache.js';
export { ByteView } from './engine/byteview.js';
export type { Getter, GroupStats, SetOptions } from './engine/group.js';
export type { InvalidationReport } from './engine/invalidation.js';
export type { SetReport } from './engine/set-everywhere.js';
export type { PeerTraffic } from './engine/peers.js';
export {
  GeecacheError,
  NotFoundError,
  SourceError,
  PeerUnavailableError,
  PeerAdminError,
  InvalidKeyError,
  UnknownGroupError,
  ConfigError,
} from './errors.js';
export { MAX_KEY_BYTES } from './engine/key.js';
export { MAX_MGET_KEYS, MAX_MGET_ANSWER_BYTES } from './protocol/mget.js';
export { FrameReader, BATCH_CONTENT_TYPE, encodeKeys, type Frame } from './protocol/batch.js';
// The server's pieces (main.ts uses them): not stable.
export { loadConfig, usage, type Config } from './config.js';
