export * from './calibration';
export * from './feature-set';
export * from './head';
export * from './layerwise';
export * from './lbfgs';
export * from './logreg';
export * from './split';
export * from './explore';
