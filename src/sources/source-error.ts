// A source that cannot be opened or read: the message names it and says what is wrong.
export class SourceError extends Error {
  readonly userFacing = true;
}
