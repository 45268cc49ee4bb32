// The error of a runner home that cannot be used as it is (a bad config.yml or service definition):
// its message names the file and the field to fix.
export class HomeError extends Error {
  override name = 'HomeError';
}
