// The booth's helper: stretching the voting code (Argon2id) and encrypting the ballot run here,
// in a Web Worker, so that the page never freezes. It loads the booth's own WebAssembly.
import init, { worker_main } from './tabella-booth.js';

await init();
worker_main();
