import { MongoClient } from 'mongodb';
const c = await new MongoClient(process.env.URI!).connect();
const db = c.db(process.env.DB!);
const r = await db.command({ explain: { find: 'Patient', filter: { 'sp.identifier': 'urn:oid:1.2.36.146.595.217.0.1|MRN0000077', deleted: false } } });
console.log(JSON.stringify(r).slice(0, 1500));
await c.close();
