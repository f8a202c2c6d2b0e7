export * from './plots';
export * from './probe-report';
export * from './report';
