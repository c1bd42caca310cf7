/** The smallest A4Mer networks the motif tests train: 8 wide, 2 heads, one layer each. */
export const TINY_A4MER_NET = {
  dModel: 8,
  heads: 2,
  mlpRatio: 2,
  encoderLayers: 1,
  latentLayers: 1,
  predictorLayers: 1,
  predictorDim: 8,
};
