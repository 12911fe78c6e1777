import init from './tabella-booth.js';
init();
