// Hardhat is used only as a local Ethereum node for the integration tests
// (`npx hardhat node --hostname 127.0.0.1 --port PORT`, started by tests/ and by .ci/run).
// The contract is compiled by scripts/compile.js with the pinned solc-js, never by Hardhat:
// the sources path points at a folder with no Solidity files, so `hardhat node` compiles
// nothing and downloads no compiler.
"use strict";

module.exports = {
  paths: {
    sources: "./hardhat/sources",
    cache: "./hardhat/cache",
    artifacts: "./hardhat/artifacts",
  },
  networks: {
    hardhat: {
      chainId: 31337,
      hardfork: "cancun",
      // A block every second even without transactions, and one per transaction: the chain's
      // clock (the latest block's timestamp) moves on by itself, as on a public chain, so that
      // the service sees voting close on chain.
      mining: { auto: true, interval: 1000 },
    },
  },
};
