// The client side of tst_server_openai: drives tenfold-server with the official `openai` npm
// package, so the server is held to what real OpenAI clients send and parse. Prints one JSON
// object with what came back; tst_server_openai compares the texts with tenfold-cli's.
//
// usage: node openai_client.mjs '{"baseURL": "...", "model": "...", "prompts": [...], "maxTokens": N}'
import OpenAI from 'openai';

const spec = JSON.parse(process.argv[2]);
const client = new OpenAI({ baseURL: spec.baseURL, apiKey: spec.apiKey ?? 'unused', maxRetries: 0, timeout: 120000 });
const out = { requests: 0 };
const greedy = { model: spec.model, max_tokens: spec.maxTokens, temperature: 0 };

async function main() {
  if (spec.chatOnly) {
    // One greedy chat request, streamed, with the given stop strings.
    const stream = await client.chat.completions.create({
      ...greedy, messages: spec.messages, stop: spec.stop, stream: true,
    });
    let text = '', finish = null;
    for await (const chunk of stream)
      for (const c of chunk.choices) {
        if (c.delta.content) text += c.delta.content;
        if (c.finish_reason) finish = c.finish_reason;
      }
    out.chat = { text, finish };
    return;
  }
  out.models = (await client.models.list()).data.map((m) => m.id);

  // Chat, not streamed.
  const chat = await client.chat.completions.create({
    ...greedy, messages: [{ role: 'user', content: spec.prompts[0] }],
  });
  out.requests++;
  out.chat = chat.choices[0].message.content;
  out.chatFinish = chat.choices[0].finish_reason;
  out.chatUsage = chat.usage;
  out.chatObject = chat.object;

  // Chat, streamed, with the usage chunk at the end.
  const stream = await client.chat.completions.create({
    ...greedy, messages: [{ role: 'user', content: spec.prompts[0] }],
    stream: true, stream_options: { include_usage: true },
  });
  out.requests++;
  let text = '', role = null, finish = null, usage = null, chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      if (c.delta.role) role = c.delta.role;
      if (c.delta.content) text += c.delta.content;
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  out.chatStream = { text, role, finish, usage, chunks };

  // Text completions, one after the other, then streamed.
  out.completions = [];
  for (const prompt of spec.prompts) {
    const r = await client.completions.create({ ...greedy, prompt });
    out.requests++;
    out.completions.push(r.choices[0].text);
  }
  const cstream = await client.completions.create({ ...greedy, prompt: spec.prompts[0], stream: true });
  out.requests++;
  let ctext = '';
  for await (const chunk of cstream) for (const c of chunk.choices) ctext += c.text;
  out.completionStream = ctext;

  // The same prompts all at once: they share batches on the server.
  const parallel = await Promise.all(spec.prompts.map((prompt) =>
    client.completions.create({ ...greedy, prompt }).then((r) => r.choices[0].text)));
  out.requests += spec.prompts.length;
  out.parallel = parallel;

  // Four greedy choices of one request: each is the greedy text.
  const four = await client.completions.create({ ...greedy, prompt: spec.prompts[0], n: 4 });
  out.requests++;
  out.greedyChoices = four.choices.sort((a, b) => a.index - b.index).map((c) => c.text);

  // One prompt four times at once: the requests share its cached KV blocks.
  out.samePrompt = await Promise.all([0, 1, 2, 3].map(() =>
    client.completions.create({ ...greedy, prompt: spec.prompts[1] }).then((r) => r.choices[0].text)));
  out.requests += 4;

  // Sampling with a seed is reproducible.
  out.seeded = [];
  for (let i = 0; i < 2; i++) {
    const r = await client.completions.create({
      model: spec.model, prompt: spec.prompts[2], max_tokens: 8, temperature: 0.9, seed: 5, n: 2,
    });
    out.requests++;
    out.seeded.push(r.choices.sort((a, b) => a.index - b.index).map((c) => c.text));
  }

  // Sampled with a seed and several choices: just well-formed.
  const sampled = await client.completions.create({
    model: spec.model, prompt: spec.prompts[0], max_tokens: 8, temperature: 0.8, top_p: 0.9, seed: 7, n: 2, logprobs: 2,
  });
  out.requests++;
  out.sampled = { choices: sampled.choices.length, logprobTokens: sampled.choices[0].logprobs?.tokens?.length ?? 0 };

  // Embeddings (the package asks for base64 and decodes it).
  const emb = await client.embeddings.create({ model: spec.model, input: [spec.prompts[0], spec.prompts[1]] });
  out.requests++;
  const v = emb.data[0].embedding;
  out.embeddings = { count: emb.data.length, dims: v.length, norm: Math.sqrt(v.reduce((s, x) => s + x * x, 0)) };

  // A model the server does not have: the package's NotFoundError.
  try {
    await client.completions.create({ ...greedy, model: 'no-such-model', prompt: 'x' });
    out.unknownModelStatus = 200;
  } catch (e) {
    out.unknownModelStatus = e.status ?? -1;
  }
}

main().then(() => {
  process.stdout.write(JSON.stringify(out) + '\n');
}).catch((e) => {
  process.stderr.write(`openai_client.mjs: ${e.stack ?? e}\n`);
  process.exit(1);
});
