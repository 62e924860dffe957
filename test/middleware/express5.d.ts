// express@5 installed under the alias `express5` (devDependency) for compatibility tests; the API the tests
// use is the same as v4's, so v4's types (@types/express stays v4) describe it.
declare module 'express5' {
  import express from 'express';
  export default express;
}
