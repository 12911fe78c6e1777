#!/usr/bin/env node
// Compiles contracts/solidity/TabellaRegistry.sol with the pinned solc-js (package.json) and
// writes the artifacts the Rust crate embeds:
//   artifacts/TabellaRegistry.abi.json   the ABI (JSON, two-space indent, newline-terminated)
//   artifacts/TabellaRegistry.bin        the creation bytecode (lowercase hex, newline-terminated)
//   artifacts/TabellaRegistry.runtime.bin  the deployed (runtime) bytecode
//   artifacts/TabellaRegistry.gas.json   the compiler's gas estimates
//
//   node scripts/compile.js              write the artifacts
//   node scripts/compile.js --out DIR    write them to DIR instead
//   node scripts/compile.js --check      compile and compare with the committed artifacts byte
//                                        for byte; exit 1 on any difference
"use strict";

const fs = require("fs");
const path = require("path");
const solc = require("solc");

const ROOT = path.resolve(__dirname, "..");
const SOURCE = "solidity/TabellaRegistry.sol";
const NAME = "TabellaRegistry";

// The settings are part of the artifact's identity: changing one changes the bytecode.
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "cancun",
  viaIR: false,
  metadata: { bytecodeHash: "ipfs" },
  outputSelection: {
    "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "evm.gasEstimates"] },
  },
};

function compile() {
  const input = {
    language: "Solidity",
    sources: { [SOURCE]: { content: fs.readFileSync(path.join(ROOT, SOURCE), "utf8") } },
    settings: SETTINGS,
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  for (const e of output.errors || []) {
    process.stderr.write(e.formattedMessage || e.message);
  }
  if (errors.length > 0) {
    throw new Error(`solc ${solc.version()} failed to compile ${SOURCE}`);
  }
  const contract = output.contracts[SOURCE][NAME];
  return {
    [`${NAME}.abi.json`]: JSON.stringify(contract.abi, null, 2) + "\n",
    [`${NAME}.bin`]: contract.evm.bytecode.object + "\n",
    [`${NAME}.runtime.bin`]: contract.evm.deployedBytecode.object + "\n",
    [`${NAME}.gas.json`]: JSON.stringify(contract.evm.gasEstimates, null, 2) + "\n",
  };
}

function main() {
  const args = process.argv.slice(2);
  const check = args.includes("--check");
  const outIndex = args.indexOf("--out");
  const outDir = outIndex >= 0 ? path.resolve(args[outIndex + 1]) : path.join(ROOT, "artifacts");
  const files = compile();
  if (check) {
    let differ = false;
    for (const [name, content] of Object.entries(files)) {
      const committed = path.join(ROOT, "artifacts", name);
      const old = fs.existsSync(committed) ? fs.readFileSync(committed, "utf8") : null;
      if (old !== content) {
        process.stderr.write(`artifacts/${name} differs from what solc ${solc.version()} compiles\n`);
        differ = true;
      }
    }
    if (differ) {
      process.stderr.write("run `npm run compile` in contracts/ and commit the artifacts\n");
      process.exit(1);
    }
    process.stdout.write(`artifacts match solc ${solc.version()}\n`);
    return;
  }
  fs.mkdirSync(outDir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    fs.writeFileSync(path.join(outDir, name), content);
  }
  process.stdout.write(`compiled ${SOURCE} with solc ${solc.version()} into ${outDir}\n`);
}

main();
