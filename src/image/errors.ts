// One error class for everything `pifarm image` refuses, so the CLI prints the message alone.
export class ImageError extends Error {
  readonly userFacing = true;
  override name = 'ImageError';
}
