export * from './extract';
export * from './frontend';
export * from './frontends';
export * from './lfcc';
export * from './npy';
export * from './pool';
export * from './store';
