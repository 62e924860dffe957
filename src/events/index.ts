export * from './vocabulary';
export * from './event';
export * from './identity';
export * from './schema';
export * from './source';
