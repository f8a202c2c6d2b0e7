export * from './plots';
export * from './probe-report';
export * from './report';
export * from './inside';
export * from './explore';
export * from './timeline';
