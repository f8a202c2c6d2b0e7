import * as path from 'path';
import { useBackend } from '../../lib/backend';
import { createModel, loadModel } from '../../lib/models';
import { randomModelSource } from '../../lib/models/random';
import { modelFingerprint } from '../../lib/weights';
import { DEMO_CONFIG } from '../../tools/make-demo-model';
import { GOLDEN } from '../helpers/fixtures';

beforeAll(() => useBackend('cpu'));

describe('SpeechModel.fingerprint', () => {
  it('is the model directory fingerprint for a checkpoint directory and a store, null for weights built in memory', () => {
    for (const dir of [path.join(GOLDEN, 'hubert_base_tiny'), path.join(__dirname, '..', '..', 'weights', 'demo')]) {
      const model = loadModel(dir);
      expect(model.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(model.fingerprint).toBe(modelFingerprint(dir));
      model.dispose();
    }
    const model = createModel(randomModelSource(DEMO_CONFIG));
    expect(model.fingerprint).toBeNull();
    model.dispose();
  });
});
