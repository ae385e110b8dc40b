// npm run bench -- discovery: see README.md here (apply 10k workloads + 1k services + 1k policies; routing lookups).
await import('./apply.ts');
