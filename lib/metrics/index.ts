/** Detection and calibration metrics for P(spoof) scores (labels 1 = spoof). */
export * from './asvspoof5';
export * from './bootstrap';
export * from './calibration';
export * from './eer';
export * from './reliability';
export * from './roc';
export * from './scores';
export * from './summary';
