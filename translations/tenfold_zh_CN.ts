<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>Library</name>
    <message>
        <source>the model library</source>
        <translation>模型库</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>Run language models locally.</source>
        <translation>在本机运行语言模型。</translation>
    </message>
    <message>
        <source>Keep conversations, the model library and settings in DIR.</source>
        <translation>将对话、模型库和设置保存在 DIR 中。</translation>
    </message>
    <message>
        <source>Add FILE to the model library, load it and open a new chat.</source>
        <translation>将 FILE 加入模型库，加载它并开始新的对话。</translation>
    </message>
    <message>
        <source>The model file %1 does not exist.</source>
        <translation>模型文件 %1 不存在。</translation>
    </message>
    <message>
        <source>Tenfold cannot open its data folder %1.

%2

Choose another folder with --data-dir.</source>
        <translation>Tenfold 无法打开数据文件夹 %1。

%2

请用 --data-dir 选择其他文件夹。</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::AbTab</name>
    <message>
        <source>Prompt &amp;A</source>
        <translation>提示词 &amp;A</translation>
    </message>
    <message>
        <source>Prompt &amp;B</source>
        <translation>提示词 &amp;B</translation>
    </message>
    <message>
        <source>Prompt A</source>
        <translation>提示词 A</translation>
    </message>
    <message>
        <source>Prompt B</source>
        <translation>提示词 B</translation>
    </message>
    <message>
        <source>&amp;Tokens to generate:</source>
        <translation>生成词元数(&amp;T)：</translation>
    </message>
    <message>
        <source>&amp;Run both</source>
        <translation>两个都运行(&amp;R)</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>A</source>
        <translation>A</translation>
    </message>
    <message>
        <source>B</source>
        <translation>B</translation>
    </message>
    <message>
        <source>Prompt tokens</source>
        <translation>提示词元</translation>
    </message>
    <message>
        <source>Output tokens</source>
        <translation>输出词元</translation>
    </message>
    <message>
        <source>Prompt time (ms)</source>
        <translation>提示处理时间（毫秒）</translation>
    </message>
    <message>
        <source>Generation time (ms)</source>
        <translation>生成时间（毫秒）</translation>
    </message>
    <message>
        <source>Total time (ms)</source>
        <translation>总时间（毫秒）</translation>
    </message>
    <message>
        <source>Tokens/s (generation)</source>
        <translation>词元/秒（生成）</translation>
    </message>
    <message>
        <source>A/B figures</source>
        <translation>A/B 数据</translation>
    </message>
    <message>
        <source>Prompt</source>
        <translation>提示处理</translation>
    </message>
    <message>
        <source>Generation</source>
        <translation>生成</translation>
    </message>
    <message>
        <source>Time per variant (ms)</source>
        <translation>每个变体的时间（毫秒）</translation>
    </message>
    <message>
        <source>Time of each variant, prompt and generation</source>
        <translation>每个变体的时间：提示处理与生成</translation>
    </message>
    <message>
        <source>Output A</source>
        <translation>输出 A</translation>
    </message>
    <message>
        <source>Output B</source>
        <translation>输出 B</translation>
    </message>
    <message>
        <source>Load a model to run the prompts on.</source>
        <translation>请加载一个模型来运行提示词。</translation>
    </message>
    <message>
        <source>&amp;Inputs, one per line (optional; {input} in a prompt is replaced by each, otherwise the input is added on a new line):</source>
        <translation>输入(&amp;I)，每行一个（可选；提示中的 {input} 会被逐个替换，否则输入会追加在新的一行）：</translation>
    </message>
    <message>
        <source>Inputs</source>
        <translation>输入列表</translation>
    </message>
    <message>
        <source>Input</source>
        <translation>输入</translation>
    </message>
    <message>
        <source>A prompt tokens</source>
        <translation>A 提示词元数</translation>
    </message>
    <message>
        <source>A output tokens</source>
        <translation>A 输出词元数</translation>
    </message>
    <message>
        <source>A time (ms)</source>
        <translation>A 用时（毫秒）</translation>
    </message>
    <message>
        <source>A output</source>
        <translation>A 输出</translation>
    </message>
    <message>
        <source>B prompt tokens</source>
        <translation>B 提示词元数</translation>
    </message>
    <message>
        <source>B output tokens</source>
        <translation>B 输出词元数</translation>
    </message>
    <message>
        <source>B time (ms)</source>
        <translation>B 用时（毫秒）</translation>
    </message>
    <message>
        <source>B output</source>
        <translation>B 输出</translation>
    </message>
    <message>
        <source>A/B figures per input</source>
        <translation>每个输入的 A/B 数据</translation>
    </message>
    <message>
        <source>Total</source>
        <translation>合计</translation>
    </message>
    <message>
        <source>Compare &amp;with:</source>
        <translation>对比(&amp;W)：</translation>
    </message>
    <message>
        <source>A cloud API whose prices per 1M tokens the same tokens are priced at (the price table on the Cost history page)</source>
        <translation>用该云 API 每百万词元的价格为相同的词元计价（价格表见“成本历史”页面）</translation>
    </message>
    <message>
        <source>Cost on this machine</source>
        <translation>本机成本</translation>
    </message>
    <message>
        <source>Cost on the cloud API</source>
        <translation>云 API 成本</translation>
    </message>
    <message>
        <source>A cost here</source>
        <translation>A 本机成本</translation>
    </message>
    <message>
        <source>A cloud cost</source>
        <translation>A 云端成本</translation>
    </message>
    <message>
        <source>B cost here</source>
        <translation>B 本机成本</translation>
    </message>
    <message>
        <source>B cloud cost</source>
        <translation>B 云端成本</translation>
    </message>
    <message>
        <source>no machine prices set</source>
        <translation>未设置本机价格</translation>
    </message>
    <message>
        <source>%1 (energy estimated)</source>
        <translation>%1（能耗为估算值）</translation>
    </message>
    <message>
        <source>no cloud price in the table</source>
        <translation>价格表中没有云端价格</translation>
    </message>
    <message>
        <source>%1 ms at the hardware amortisation plus %2 J at the electricity price</source>
        <translation>%1 毫秒按硬件摊销计价，加上 %2 焦耳按电价计价</translation>
    </message>
    <message>
        <source>Cost on %1</source>
        <translation>%1 上的成本</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::AppContext</name>
    <message>
        <source>Could not save %1: %2</source>
        <translation>无法保存%1：%2</translation>
    </message>
    <message>
        <source>A storage operation failed: %1</source>
        <translation>存储操作失败：%1</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::Application</name>
    <message>
        <source>the clean-up of deleted conversations</source>
        <translation>已删除对话的清理</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::CachePage</name>
    <message>
        <source>Cache</source>
        <translation>缓存</translation>
    </message>
    <message>
        <source>Replies at temperature 0 or with a fixed seed are stored; asking the same again shows the stored answer without computing it. Each conversation also keeps its computed prompt between replies.</source>
        <translation>温度为 0 或固定随机种子的回复会被保存；再次提出相同的问题时，直接显示保存的回答而不重新计算。每个对话还会在两次回复之间保留已计算的提示词。</translation>
    </message>
    <message>
        <source>Response cache</source>
        <translation>回复缓存</translation>
    </message>
    <message>
        <source>Hits</source>
        <translation>命中</translation>
    </message>
    <message>
        <source>Misses</source>
        <translation>未命中</translation>
    </message>
    <message>
        <source>Lookups by kind</source>
        <translation>按类型统计的查找</translation>
    </message>
    <message>
        <source>Exact</source>
        <translation>精确</translation>
    </message>
    <message>
        <source>Semantic</source>
        <translation>语义</translation>
    </message>
    <message>
        <source>Response cache hits and misses by kind</source>
        <translation>回复缓存按类型的命中与未命中次数</translation>
    </message>
    <message>
        <source>Conversation cache (this session)</source>
        <translation>对话缓存（本次运行）</translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation>刷新(&amp;R)</translation>
    </message>
    <message>
        <source>Read the figures again (%1)</source>
        <translation>重新读取数据（%1）</translation>
    </message>
    <message>
        <source>C&amp;lear response cache…</source>
        <translation>清空回复缓存(&amp;L)…</translation>
    </message>
    <message>
        <source>Delete every stored answer. The usage ledger keeps its records.</source>
        <translation>删除所有保存的回答。用量记录保持不变。</translation>
    </message>
    <message>
        <source>Reading…</source>
        <translation>正在读取…</translation>
    </message>
    <message>
        <source>Updated %1</source>
        <translation>更新于 %1</translation>
    </message>
    <message>
        <source>the cache statistics</source>
        <translation>缓存统计</translation>
    </message>
    <message>
        <source>Could not read the cache statistics.</source>
        <translation>无法读取缓存统计。</translation>
    </message>
    <message>
        <source>Clear the response cache?</source>
        <translation>清空回复缓存？</translation>
    </message>
    <message>
        <source>Every stored answer will be deleted, and a repeated question will be computed again. The usage ledger keeps its records.</source>
        <translation>所有保存的回答都将被删除，重复的问题会重新计算。用量记录保持不变。</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清空</translation>
    </message>
    <message>
        <source>Clearing…</source>
        <translation>正在清空…</translation>
    </message>
    <message>
        <source>the response cache</source>
        <translation>回复缓存</translation>
    </message>
    <message>
        <source>%1: no lookups yet</source>
        <translation>%1：尚无查找</translation>
    </message>
    <message>
        <source>%1: hits %L2, misses %L3, hit rate %4</source>
        <translation>%1：命中 %L2 次，未命中 %L3 次，命中率 %4</translation>
    </message>
    <message>
        <source>Tokens not computed: %L1; compute time saved: %2 s</source>
        <translation>无需计算的词元：%L1；节省的计算时间：%2 秒</translation>
    </message>
    <message>
        <source>Stored answers: %L1; disk used: %2</source>
        <translation>已保存的回答：%L1；占用磁盘：%2</translation>
    </message>
    <message>
        <source>No replies in this session yet.</source>
        <translation>本次运行尚无回复。</translation>
    </message>
    <message>
        <source>Replies: %L1. Prompt tokens taken from the conversation&apos;s cache: %L2; computed: %L3 (%4 reused). Replies answered from the response cache: %L5.</source>
        <translation>回复：%L1 次。取自对话缓存的提示词元：%L2；重新计算：%L3（复用 %4）。由回复缓存直接给出的回复：%L5 次。</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::ChatPage</name>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>Loading was cancelled.</source>
        <translation>已取消加载。</translation>
    </message>
    <message>
        <source>Start a new conversation (%1)</source>
        <translation>开始新的对话（%1）</translation>
    </message>
    <message>
        <source>Search conversations</source>
        <translation>搜索对话</translation>
    </message>
    <message>
        <source>Conversation deleted.</source>
        <translation>对话已删除。</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <source>Rename</source>
        <translation>重命名</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Show or hide the conversation settings</source>
        <translation>显示或隐藏对话设置</translation>
    </message>
    <message>
        <source>Editing an earlier message: sending replaces it and every later message. Esc cancels.</source>
        <translation>正在编辑之前的消息：发送后将替换该消息及其后的所有消息。按 Esc 取消。</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>the conversation</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>You</source>
        <translation>你</translation>
    </message>
    <message>
        <source>System</source>
        <translation>系统</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>助手</translation>
    </message>
    <message>
        <source>Start the conversation by writing a message below.</source>
        <translation>在下方输入消息，开始对话。</translation>
    </message>
    <message>
        <source>the new conversation</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>the conversation settings</source>
        <translation>对话设置</translation>
    </message>
    <message>
        <source>the edited message</source>
        <translation>编辑后的消息</translation>
    </message>
    <message>
        <source>your message</source>
        <translation>你的消息</translation>
    </message>
    <message>
        <source>Choose a model in the conversation settings, or add one on the Models page.</source>
        <translation>请在对话设置中选择模型，或在“模型”页面添加模型。</translation>
    </message>
    <message>
        <source>Loading %1…</source>
        <translation>正在加载 %1…</translation>
    </message>
    <message>
        <source>the reply</source>
        <translation>回复</translation>
    </message>
    <message>
        <source>The model is busy; try again in a moment.</source>
        <translation>模型正忙，请稍后再试。</translation>
    </message>
    <message>
        <source>the deletion</source>
        <translation>删除操作</translation>
    </message>
    <message>
        <source>Deleted “%1”.</source>
        <translation>已删除“%1”。</translation>
    </message>
    <message>
        <source>Could not load %1: %2</source>
        <translation>无法加载 %1：%2</translation>
    </message>
    <message numerus="yes">
        <source>The conversation no longer fits the model&apos;s context of %1 tokens: the %n oldest message(s) were left out of this reply. The system prompt is kept.</source>
        <translation>
            <numerusform>对话已超出模型 %1 个词元的上下文：本次回复省略了最早的 %n 条消息。系统提示词仍被保留。</numerusform>
        </translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation>已停止。</translation>
    </message>
    <message>
        <source>The reply failed: %1</source>
        <translation>回复失败：%1</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop the reply (Esc)</source>
        <translation>停止回复（Esc）</translation>
    </message>
    <message>
        <source>Send the message (Enter)</source>
        <translation>发送消息（Enter）</translation>
    </message>
    <message>
        <source>New conversation</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>No model chosen</source>
        <translation>未选择模型</translation>
    </message>
    <message>
        <source>%1 · %2 · context %3 tokens</source>
        <translation>%1 · %2 · 上下文 %3 个词元</translation>
    </message>
    <message>
        <source>plain completion (not a chat model)</source>
        <translation>纯文本续写（非对话模型）</translation>
    </message>
    <message>
        <source>chat format: %1</source>
        <translation>对话格式：%1</translation>
    </message>
    <message>
        <source>%1 · loading…</source>
        <translation>%1 · 正在加载…</translation>
    </message>
    <message>
        <source>%1 · loads when you send a message</source>
        <translation>%1 · 发送消息时加载</translation>
    </message>
    <message>
        <source>Chat</source>
        <translation>聊天</translation>
    </message>
    <message>
        <source>The reply was not started because another conversation was opened while the model loaded.</source>
        <translation>模型加载期间打开了另一个对话，因此未开始回复。</translation>
    </message>
    <message>
        <source>Draft model: %1% of %2 proposed tokens kept.</source>
        <translation>草稿模型：提议的 %2 个词元中保留了 %1%。</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::Composer</name>
    <message>
        <source>Write a message… (Enter sends, Shift+Enter adds a line)</source>
        <translation>输入消息…（Enter 发送，Shift+Enter 换行）</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::CompressJob</name>
    <message>
        <source>Reading the model</source>
        <translation>正在读取模型</translation>
    </message>
    <message>
        <source>Calibrating on the text</source>
        <translation>正在用文本校准</translation>
    </message>
    <message>
        <source>Analysing each matrix</source>
        <translation>正在分析每个矩阵</translation>
    </message>
    <message>
        <source>Writing the factorised model</source>
        <translation>正在写入分解后的模型</translation>
    </message>
    <message>
        <source>%1 of %2 matrices factorised</source>
        <translation>已分解 %2 个矩阵中的 %1 个</translation>
    </message>
    <message>
        <source>Clustering the weights into palettes</source>
        <translation>正在将权重聚类为调色板</translation>
    </message>
    <message>
        <source>%1 matrices with %2-bit palettes</source>
        <translation>%1 个矩阵使用 %2 位调色板</translation>
    </message>
    <message>
        <source>Tuning the palettes to the original</source>
        <translation>正在按原模型微调调色板</translation>
    </message>
    <message>
        <source>, tuned for %1 steps (%2 numbers)</source>
        <translation>，已微调 %1 步（%2 个数值）</translation>
    </message>
    <message>
        <source>, %1 of %2 codes changed</source>
        <translation>，%2 个编码中改变了 %1 个</translation>
    </message>
    <message>
        <source>Measuring quality against the original</source>
        <translation>正在与原始模型对比测量质量</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::CompressWizard</name>
    <message>
        <source>Compress a model</source>
        <translation>压缩模型</translation>
    </message>
    <message>
        <source>Done in %1 s.</source>
        <translation>用时 %1 秒完成。</translation>
    </message>
    <message>
        <source>The run failed: %1</source>
        <translation>运行失败：%1</translation>
    </message>
    <message>
        <source>Cancelled. No file was written; go back to change the run, or close.</source>
        <translation>已取消。没有写入任何文件；可以返回修改设置，或关闭。</translation>
    </message>
    <message>
        <source>Which model?</source>
        <translation>哪个模型？</translation>
    </message>
    <message>
        <source>The model to compress. It stays as it is; the result is a new file.</source>
        <translation>要压缩的模型。原模型保持不变；结果是一个新文件。</translation>
    </message>
    <message>
        <source>&amp;Model:</source>
        <translation>模型(&amp;M)：</translation>
    </message>
    <message>
        <source>How to compress?</source>
        <translation>如何压缩？</translation>
    </message>
    <message>
        <source>Both methods are Tenfold extensions of GGUF: Tenfold runs the result, and the results page can export the nearest standard GGUF for other engines.</source>
        <translation>两种方法都是 Tenfold 对 GGUF 的扩展：Tenfold 可以运行结果，结果页还能导出最接近的标准 GGUF 供其他引擎使用。</translation>
    </message>
    <message>
        <source>&amp;Low-rank factorisation to a target size (MB):</source>
        <translation>低秩分解到目标大小 (MB)(&amp;L)：</translation>
    </message>
    <message>
        <source>Each layer matrix becomes a product of two thin ones; the ranks are chosen so the file meets the size while losing the least on the calibration text.</source>
        <translation>每个层矩阵变为两个窄矩阵的乘积；秩的选择使文件满足大小要求，同时在校准文本上损失最小。</translation>
    </message>
    <message>
        <source>&amp;Palettes (weight sharing), bits per weight:</source>
        <translation>调色板（权重共享），每个权重的位数(&amp;P)：</translation>
    </message>
    <message>
        <source>The weights of each group of rows share a small palette of values found by weighted k-means; each weight is stored as an index into it.</source>
        <translation>每组行的权重共享一个由加权 k-means 求得的小调色板；每个权重存储为指向它的索引。</translation>
    </message>
    <message>
        <source>4 bits (16 values per palette)</source>
        <translation>4 位（每个调色板 16 个值）</translation>
    </message>
    <message>
        <source>3 bits (8 values per palette)</source>
        <translation>3 位（每个调色板 8 个值）</translation>
    </message>
    <message>
        <source>2 bits (4 values per palette)</source>
        <translation>2 位（每个调色板 4 个值）</translation>
    </message>
    <message>
        <source>off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>After compressing, fit the palette tables, row scales and norms to the original model by distillation on the calibration text (the size does not change). About 1.5 s per step for a 16M-parameter model on 2 cores; 150 steps lowered the KL divergence by about 11% on ref-main.</source>
        <translation>压缩之后，在校准文本上通过蒸馏让调色板表、行缩放和归一化参数拟合原模型（文件大小不变）。在 2 核上，1600 万参数的模型每步约 1.5 秒；在 ref-main 上 150 步使 KL 散度降低约 11%。</translation>
    </message>
    <message>
        <source>Let tuning &amp;change the codes too</source>
        <translation>微调时也允许改变编码(&amp;C)</translation>
    </message>
    <message>
        <source>Tuning may also switch a weight to a neighbouring palette entry (or IQ4_NL level) where the gradient keeps pushing it there, starting from the codes GPTQ chose. The size stays the same.</source>
        <translation>微调时，若梯度持续把某个权重推向相邻的调色板条目（或 IQ4_NL 级别），也可以把它切换过去；起点是 GPTQ 选出的编码。文件大小保持不变。</translation>
    </message>
    <message>
        <source>C&amp;hoose…</source>
        <translation>选择(&amp;H)…</translation>
    </message>
    <message>
        <source>&amp;Tune palettes by distillation, steps:</source>
        <translation>通过蒸馏微调调色板(&amp;T)，步数：</translation>
    </message>
    <message>
        <source>Save &amp;as:</source>
        <translation>另存为(&amp;A)：</translation>
    </message>
    <message>
        <source>Save the compressed model as</source>
        <translation>将压缩后的模型另存为</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf)</source>
        <translation>GGUF 模型 (*.gguf)</translation>
    </message>
    <message>
        <source>Which text?</source>
        <translation>用哪段文本？</translation>
    </message>
    <message>
        <source>Calibration sees the first three quarters of the text; quality is measured on the last quarter, which calibration never saw. Use text like what the model will read.</source>
        <translation>校准使用文本的前四分之三；质量在校准从未见过的最后四分之一上测量。请使用与模型将要阅读的内容相似的文本。</translation>
    </message>
    <message>
        <source>The &amp;shipped short stories (about 11 KB: quick, rough figures)</source>
        <translation>内置短篇故事(&amp;S)（约 11 KB：快速，结果粗略）</translation>
    </message>
    <message>
        <source>A text &amp;file:</source>
        <translation>文本文件(&amp;F)：</translation>
    </message>
    <message>
        <source>B&amp;rowse…</source>
        <translation>浏览(&amp;R)…</translation>
    </message>
    <message>
        <source>Choose a text</source>
        <translation>选择文本</translation>
    </message>
    <message>
        <source>Text files (*.txt);;All files (*)</source>
        <translation>文本文件 (*.txt);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Compressing</source>
        <translation>正在压缩</translation>
    </message>
    <message>
        <source>The app stays usable meanwhile. Cancel leaves no partial file.</source>
        <translation>期间应用仍可使用。取消不会留下不完整的文件。</translation>
    </message>
    <message>
        <source>&amp;Cancel the run</source>
        <translation>取消运行(&amp;C)</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <source>What it cost</source>
        <translation>代价如何</translation>
    </message>
    <message>
        <source>This file next to the original and every earlier run of the same model.</source>
        <translation>此文件与原始模型以及同一模型以前的每次运行对比。</translation>
    </message>
    <message>
        <source>Measure</source>
        <translation>指标</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>数值</translation>
    </message>
    <message>
        <source>C&amp;hat with it</source>
        <translation>用它聊天(&amp;H)</translation>
    </message>
    <message>
        <source>The standard type every weight matrix of the exported file gets</source>
        <translation>导出文件中每个权重矩阵使用的标准类型</translation>
    </message>
    <message>
        <source>&amp;Export standard GGUF</source>
        <translation>导出标准 GGUF(&amp;E)</translation>
    </message>
    <message>
        <source>Write the nearest standard GGUF (factors multiplied out, palettes decoded) for other engines</source>
        <translation>为其他引擎写出最接近的标准 GGUF（因子相乘还原，调色板解码）</translation>
    </message>
    <message>
        <source>Open &amp;folder</source>
        <translation>打开文件夹(&amp;F)</translation>
    </message>
    <message>
        <source>as &amp;type:</source>
        <translation>类型(&amp;T)：</translation>
    </message>
    <message>
        <source>Add a model to the library or browse for a GGUF file.</source>
        <translation>请向模型库添加模型，或浏览选择一个 GGUF 文件。</translation>
    </message>
    <message>
        <source>Reading %1…</source>
        <translation>正在读取 %1…</translation>
    </message>
    <message>
        <source>This file cannot be compressed: %1</source>
        <translation>无法压缩此文件：%1</translation>
    </message>
    <message>
        <source>%1, %2 on disk; %3 layer matrices.</source>
        <translation>%1，磁盘上 %2；%3 个层矩阵。</translation>
    </message>
    <message>
        <source>Predicted size: reading the model…</source>
        <translation>预计大小：正在读取模型…</translation>
    </message>
    <message>
        <source>%1 MB is below the smallest file low-rank factorisation can make of this model (%2 MB).</source>
        <translation>%1 MB 低于低秩分解对此模型能得到的最小文件（%2 MB）。</translation>
    </message>
    <message>
        <source>The file will be at most %1 MB (the original is %2 MB; the smallest reachable %3 MB).</source>
        <translation>文件最多 %1 MB（原模型 %2 MB；可达到的最小值 %3 MB）。</translation>
    </message>
    <message>
        <source>Predicted size: %1 MB (%2% of the original&apos;s %3 MB).</source>
        <translation>预计大小：%1 MB（原始模型 %3 MB 的 %2%）。</translation>
    </message>
    <message>
        <source>Choose a model first.</source>
        <translation>请先选择模型。</translation>
    </message>
    <message>
        <source>Choose where to save the result.</source>
        <translation>请选择结果的保存位置。</translation>
    </message>
    <message>
        <source>The result cannot replace the model it is made from; choose another name.</source>
        <translation>结果不能覆盖其来源模型；请换一个名称。</translation>
    </message>
    <message>
        <source>The folder %1 cannot be written to.</source>
        <translation>无法写入文件夹 %1。</translation>
    </message>
    <message>
        <source>The text file %1 cannot be read.</source>
        <translation>无法读取文本文件 %1。</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在开始…</translation>
    </message>
    <message>
        <source>the optimization history</source>
        <translation>优化历史</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>方法</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>%1 MB (was %2 MB, %3%)</source>
        <translation>%1 MB（原为 %2 MB，%3%）</translation>
    </message>
    <message>
        <source>Bits per weight</source>
        <translation>每权重位数</translation>
    </message>
    <message>
        <source>Mean KL divergence</source>
        <translation>平均 KL 散度</translation>
    </message>
    <message>
        <source>Median / 99th percentile KLD</source>
        <translation>KLD 中位数 / 第 99 百分位</translation>
    </message>
    <message>
        <source>Same top token</source>
        <translation>首选词元相同</translation>
    </message>
    <message>
        <source>Perplexity (original)</source>
        <translation>困惑度（原始模型）</translation>
    </message>
    <message>
        <source>Prompt / generation speed</source>
        <translation>提示词 / 生成速度</translation>
    </message>
    <message>
        <source>%1 / %2 tokens/s</source>
        <translation>%1 / %2 词元/秒</translation>
    </message>
    <message>
        <source>Matrices</source>
        <translation>矩阵</translation>
    </message>
    <message>
        <source>Measured on</source>
        <translation>测量依据</translation>
    </message>
    <message numerus="yes">
        <source>%n window(s) of held-out text</source>
        <translation>
            <numerusform>%n 个留出文本窗口</numerusform>
        </translation>
    </message>
    <message>
        <source>Time</source>
        <translation>用时</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
    <message>
        <source>Original</source>
        <translation>原始模型</translation>
    </message>
    <message>
        <source>This run</source>
        <translation>本次运行</translation>
    </message>
    <message>
        <source>Exporting %1…</source>
        <translation>正在导出 %1…</translation>
    </message>
    <message>
        <source>Exported a standard GGUF (%1 MB) that other engines load: %2</source>
        <translation>已导出其他引擎可加载的标准 GGUF（%1 MB）：%2</translation>
    </message>
    <message>
        <source>The export failed: %1</source>
        <translation>导出失败：%1</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::CompressionTab</name>
    <message>
        <source>&amp;Prompt to compress</source>
        <translation>要压缩的提示词(&amp;P)</translation>
    </message>
    <message>
        <source>Prompt to compress</source>
        <translation>要压缩的提示词</translation>
    </message>
    <message>
        <source>Share of the prompt&apos;s tokens to keep</source>
        <translation>提示词中保留的词元比例</translation>
    </message>
    <message>
        <source>&amp;Keep:</source>
        <translation>保留(&amp;K)：</translation>
    </message>
    <message>
        <source>the loaded model</source>
        <translation>已加载的模型</translation>
    </message>
    <message>
        <source>A small model with the same vocabulary scores the tokens faster</source>
        <translation>词表相同的小模型可以更快地为词元打分</translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation>浏览(&amp;B)…</translation>
    </message>
    <message>
        <source>&amp;Scoring model:</source>
        <translation>打分模型(&amp;S)：</translation>
    </message>
    <message>
        <source>Tokens of the answer to compare (0: do not compare)</source>
        <translation>要比较的回答词元数（0：不比较）</translation>
    </message>
    <message>
        <source>&amp;Answer tokens:</source>
        <translation>回答词元(&amp;A)：</translation>
    </message>
    <message>
        <source>C&amp;ompress</source>
        <translation>压缩(&amp;O)</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Original (dropped words struck out, kept questions and instructions in bold)</source>
        <translation>原文（删去的词加删除线，保留的问题和指令为粗体）</translation>
    </message>
    <message>
        <source>Original prompt with dropped words marked</source>
        <translation>标出删去词语的原始提示词</translation>
    </message>
    <message>
        <source>Compressed prompt</source>
        <translation>压缩后的提示词</translation>
    </message>
    <message>
        <source>Answer to the original</source>
        <translation>对原文的回答</translation>
    </message>
    <message>
        <source>Answer to the compressed prompt</source>
        <translation>对压缩提示词的回答</translation>
    </message>
    <message>
        <source>Kept</source>
        <translation>保留</translation>
    </message>
    <message>
        <source>Dropped</source>
        <translation>删去</translation>
    </message>
    <message>
        <source>Surprisal of each token (nats)</source>
        <translation>每个词元的意外度（奈特）</translation>
    </message>
    <message>
        <source>Surprisal of each token, kept or dropped</source>
        <translation>每个词元的意外度，保留或删去</translation>
    </message>
    <message>
        <source>Choose a scoring model</source>
        <translation>选择打分模型</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation>GGUF 模型 (*.gguf);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Load a model to compress with.</source>
        <translation>请加载一个模型来进行压缩。</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在开始…</translation>
    </message>
    <message>
        <source>Tokens: %1 → %2 (%3% of the original; budget %4), %5 saved, scored in %6 s.</source>
        <translation>词元：%1 → %2（原文的 %3%；预算 %4），节省 %5 个，打分用时 %6 秒。</translation>
    </message>
    <message>
        <source>Answer change over %1 tokens: mean KL divergence %2 nats (max %3), same most likely token at %4% of them.</source>
        <translation>%1 个词元上的回答变化：平均 KL 散度 %2 奈特（最大 %3），其中 %4% 的位置最可能的词元相同。</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::ConversationListModel</name>
    <message>
        <source>the conversation list</source>
        <translation>对话列表</translation>
    </message>
    <message>
        <source>the conversation title</source>
        <translation>对话标题</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::ConversationSettingsPanel</name>
    <message>
        <source>Conversation settings</source>
        <translation>对话设置</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>System prompt</source>
        <translation>系统提示词</translation>
    </message>
    <message>
        <source>Optional instructions for the model</source>
        <translation>给模型的可选指令</translation>
    </message>
    <message>
        <source>0 always picks the most likely token</source>
        <translation>为 0 时总是选择概率最高的词元</translation>
    </message>
    <message>
        <source>off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>random</source>
        <translation>随机</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <source>Top-k</source>
        <translation>Top-k</translation>
    </message>
    <message>
        <source>Top-p</source>
        <translation>Top-p</translation>
    </message>
    <message>
        <source>Min-p</source>
        <translation>Min-p</translation>
    </message>
    <message>
        <source>Repetition penalty</source>
        <translation>重复惩罚</translation>
    </message>
    <message>
        <source>Max tokens</source>
        <translation>最大词元数</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <source>Choose a model…</source>
        <translation>选择模型…</translation>
    </message>
    <message>
        <source>the model library</source>
        <translation>模型库</translation>
    </message>
    <message>
        <source>Lowers the odds of tokens used recently. Off (1.00) by default; about 1.1 can stop a small model from repeating itself.</source>
        <translation>降低最近用过的词元再次出现的概率。默认关闭（1.00）；约 1.1 可以防止小模型反复重复自己。</translation>
    </message>
    <message>
        <source>Draft model</source>
        <translation>草稿模型</translation>
    </message>
    <message>
        <source>Speculative decoding: a smaller model with the same vocabulary proposes tokens that the conversation&apos;s model checks several at a time. The replies stay the same; they may come faster.</source>
        <translation>推测解码：由一个词表相同的较小模型提议词元，对话所用的模型一次核验多个。回复内容不变，速度可能更快。</translation>
    </message>
    <message>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Answer from similar earlier questions</source>
        <translation>用相似的早先问题的回答作答</translation>
    </message>
    <message>
        <source>For replies at temperature 0 or with a fixed seed: when an earlier question to this model was at least this similar (by the model&apos;s own embedding of the prompt), its stored answer is shown instead of a new one.</source>
        <translation>适用于温度为 0 或固定随机种子的回复：若之前向此模型提出的某个问题至少有这样的相似度（按模型自身对提示词的嵌入计算），则显示其保存的回答，而不生成新的回答。</translation>
    </message>
    <message>
        <source>Similarity</source>
        <translation>相似度</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::CostPage</name>
    <message>
        <source>Cost history</source>
        <translation>成本历史</translation>
    </message>
    <message>
        <source>What each generation cost: the energy it used (measured from the CPU&apos;s RAPL counters where the system allows reading them, otherwise estimated from the configured wattage and marked &quot;est.&quot;) at your electricity price, plus the machine&apos;s cost spread over its hours of use. Days follow your local time.</source>
        <translation>每次生成的成本：所用电能（系统允许读取时取自 CPU 的 RAPL 计数器，否则按设定的功率估算并标注“估”）乘以你的电价，再加上机器按使用小时分摊的成本。日期按本地时间划分。</translation>
    </message>
    <message>
        <source>&amp;Period:</source>
        <translation>周期(&amp;P)：</translation>
    </message>
    <message>
        <source>Day</source>
        <translation>日</translation>
    </message>
    <message>
        <source>Week</source>
        <translation>周</translation>
    </message>
    <message>
        <source>&amp;Model:</source>
        <translation>模型(&amp;M)：</translation>
    </message>
    <message>
        <source>&amp;Device:</source>
        <translation>设备(&amp;D)：</translation>
    </message>
    <message>
        <source>&amp;Source:</source>
        <translation>来源(&amp;S)：</translation>
    </message>
    <message>
        <source>C&amp;hart:</source>
        <translation>图表(&amp;H)：</translation>
    </message>
    <message>
        <source>Cost</source>
        <translation>成本</translation>
    </message>
    <message>
        <source>Tokens</source>
        <translation>词元</translation>
    </message>
    <message>
        <source>Energy (J)</source>
        <translation>能耗（焦）</translation>
    </message>
    <message>
        <source>Cost per period by model</source>
        <translation>按模型统计的各周期成本</translation>
    </message>
    <message>
        <source>Totals</source>
        <translation>合计</translation>
    </message>
    <message>
        <source>Compare &amp;with:</source>
        <translation>对比(&amp;W)：</translation>
    </message>
    <message>
        <source>Savings by optimisation</source>
        <translation>各项优化带来的节省</translation>
    </message>
    <message>
        <source>Optimisation</source>
        <translation>优化</translation>
    </message>
    <message>
        <source>Model (device)</source>
        <translation>模型（设备）</translation>
    </message>
    <message>
        <source>Saved</source>
        <translation>节省</translation>
    </message>
    <message>
        <source>Energy saved (J)</source>
        <translation>节省的能耗（焦）</translation>
    </message>
    <message>
        <source>Generations</source>
        <translation>生成记录</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Quantization</source>
        <translation>量化</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Prompt tokens</source>
        <translation>提示词元</translation>
    </message>
    <message>
        <source>Generated tokens</source>
        <translation>生成词元</translation>
    </message>
    <message>
        <source>Time (ms)</source>
        <translation>耗时（毫秒）</translation>
    </message>
    <message>
        <source>Prices</source>
        <translation>价格</translation>
    </message>
    <message>
        <source>One entry per line, fields separated by tabs: electricity_per_kwh, hardware_price, hardware_hours (hours of use the machine is written off over), and &quot;cloud NAME INPUT OUTPUT&quot; prices per 1M tokens.</source>
        <translation>每行一项，字段之间用制表符分隔：electricity_per_kwh（每千瓦时电价）、hardware_price（硬件价格）、hardware_hours（硬件按多少使用小时折旧），以及“cloud 名称 输入 输出”形式的每百万词元云端价格。</translation>
    </message>
    <message>
        <source>Price table</source>
        <translation>价格表</translation>
    </message>
    <message>
        <source>Save &amp;prices</source>
        <translation>保存价格(&amp;P)</translation>
    </message>
    <message>
        <source>Restore &amp;defaults</source>
        <translation>恢复默认(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Refresh</source>
        <translation>刷新(&amp;R)</translation>
    </message>
    <message>
        <source>&amp;Export CSV…</source>
        <translation>导出 CSV(&amp;E)…</translation>
    </message>
    <message>
        <source>Defaults taken %1.</source>
        <translation>默认价格取自 %1。</translation>
    </message>
    <message>
        <source>Back to the defaults taken %1.</source>
        <translation>已恢复取自 %1 的默认价格。</translation>
    </message>
    <message>
        <source>Reading…</source>
        <translation>正在读取…</translation>
    </message>
    <message>
        <source>Updated %1</source>
        <translation>更新于 %1</translation>
    </message>
    <message>
        <source>the usage ledger</source>
        <translation>用量记录</translation>
    </message>
    <message>
        <source>Could not read the usage ledger.</source>
        <translation>无法读取用量记录。</translation>
    </message>
    <message>
        <source>All models</source>
        <translation>全部模型</translation>
    </message>
    <message>
        <source>All devices</source>
        <translation>全部设备</translation>
    </message>
    <message>
        <source>All sources</source>
        <translation>全部来源</translation>
    </message>
    <message>
        <source>Chat</source>
        <translation>聊天</translation>
    </message>
    <message>
        <source>Server</source>
        <translation>服务器</translation>
    </message>
    <message>
        <source>Command line</source>
        <translation>命令行</translation>
    </message>
    <message>
        <source>Benchmark</source>
        <translation>基准测试</translation>
    </message>
    <message>
        <source>tokens</source>
        <translation>词元</translation>
    </message>
    <message>
        <source>joules</source>
        <translation>焦耳</translation>
    </message>
    <message>
        <source>Per day (local time)</source>
        <translation>按日（本地时间）</translation>
    </message>
    <message>
        <source>Per week (from Monday, local time)</source>
        <translation>按周（自周一起，本地时间）</translation>
    </message>
    <message numerus="yes">
        <source>%Ln generation(s), %L1 prompt and %L2 generated tokens.</source>
        <translation>
            <numerusform>%Ln 次生成，提示词元 %L1 个，生成词元 %L2 个。</numerusform>
        </translation>
    </message>
    <message>
        <source>Cost %1 %2, energy %3 J: %4 %2 and %5 J per 1M tokens.</source>
        <translation>成本 %1 %2，能耗 %3 焦：每百万词元 %4 %2、%5 焦。</translation>
    </message>
    <message numerus="yes">
        <source>Energy of %Ln generation(s) is an estimate (est.): RAPL was not readable or the work ran on a GPU.</source>
        <translation>
            <numerusform>其中 %Ln 次生成的能耗为估算值（估）：RAPL 不可读，或计算在 GPU 上进行。</numerusform>
        </translation>
    </message>
    <message>
        <source>The same tokens at %1 would cost %2 %3 (prices taken %4).</source>
        <translation>同样的词元使用 %1 需花费 %2 %3（价格取自 %4）。</translation>
    </message>
    <message>
        <source>Quantized model vs its base</source>
        <translation>量化模型对比原模型</translation>
    </message>
    <message>
        <source>Response cache hits</source>
        <translation>回复缓存命中</translation>
    </message>
    <message>
        <source>Speculative decoding</source>
        <translation>推测解码</translation>
    </message>
    <message>
        <source>no baseline rows</source>
        <translation>无基准记录</translation>
    </message>
    <message>
        <source>est.</source>
        <translation>估</translation>
    </message>
    <message>
        <source>Not saved: %1</source>
        <translation>未保存：%1</translation>
    </message>
    <message>
        <source>Saved.</source>
        <translation>已保存。</translation>
    </message>
    <message>
        <source>Export the usage ledger</source>
        <translation>导出用量记录</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <source>Writing %1…</source>
        <translation>正在写入 %1…</translation>
    </message>
    <message>
        <source>Wrote %1.</source>
        <translation>已写入 %1。</translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation>无法写入 %1：%2</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::DiscoverTab</name>
    <message>
        <source>Fits</source>
        <translation>可以装下</translation>
    </message>
    <message>
        <source>Tight</source>
        <translation>比较紧张</translation>
    </message>
    <message>
        <source>Won&apos;t fit</source>
        <translation>装不下</translation>
    </message>
    <message>
        <source>Unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>Queued</source>
        <translation>排队中</translation>
    </message>
    <message>
        <source>Downloading</source>
        <translation>正在下载</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>Verified</source>
        <translation>已校验</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 小时 %2 分</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1 分 %2 秒</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
    <message>
        <source>Search Hugging Face for GGUF models, e.g. “qwen2.5 0.5b”</source>
        <translation>在 Hugging Face 上搜索 GGUF 模型，例如“qwen2.5 0.5b”</translation>
    </message>
    <message>
        <source>&amp;Search</source>
        <translation>搜索(&amp;S)</translation>
    </message>
    <message>
        <source>Source: %1</source>
        <translation>来源：%1</translation>
    </message>
    <message>
        <source>Repository</source>
        <translation>仓库</translation>
    </message>
    <message>
        <source>Downloads</source>
        <translation>下载次数</translation>
    </message>
    <message>
        <source>Likes</source>
        <translation>点赞</translation>
    </message>
    <message>
        <source>Updated</source>
        <translation>更新于</translation>
    </message>
    <message>
        <source>Pick a repository to see its GGUF files.</source>
        <translation>选择一个仓库以查看其中的 GGUF 文件。</translation>
    </message>
    <message>
        <source>Quantization / file</source>
        <translation>量化类型 / 文件</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>内存</translation>
    </message>
    <message>
        <source>&amp;Download</source>
        <translation>下载(&amp;D)</translation>
    </message>
    <message>
        <source>Downloads (into %1)</source>
        <translation>下载（保存到 %1）</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <source>Speed</source>
        <translation>速度</translation>
    </message>
    <message>
        <source>Time left</source>
        <translation>剩余时间</translation>
    </message>
    <message>
        <source>&amp;Pause</source>
        <translation>暂停(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Resume</source>
        <translation>继续(&amp;R)</translation>
    </message>
    <message>
        <source>Re&amp;move</source>
        <translation>移除(&amp;M)</translation>
    </message>
    <message>
        <source>%1 failed: %2</source>
        <translation>%1失败：%2</translation>
    </message>
    <message>
        <source>Downloaded and verified %1; it is in the library.</source>
        <translation>已下载并校验 %1，它已加入模型库。</translation>
    </message>
    <message>
        <source>Searching for “%1”…</source>
        <translation>正在搜索“%1”…</translation>
    </message>
    <message>
        <source>%1 (needs a token)</source>
        <translation>%1（需要访问令牌）</translation>
    </message>
    <message>
        <source>No GGUF repositories match “%1”.</source>
        <translation>没有与“%1”匹配的 GGUF 仓库。</translation>
    </message>
    <message numerus="yes">
        <source>%n repositories match “%1”.</source>
        <translation>
            <numerusform>有 %n 个仓库与“%1”匹配。</numerusform>
        </translation>
    </message>
    <message>
        <source>Reading the files of %1…</source>
        <translation>正在读取 %1 的文件…</translation>
    </message>
    <message>
        <source>%1 has no GGUF files.</source>
        <translation>%1 中没有 GGUF 文件。</translation>
    </message>
    <message>
        <source>GGUF files of %1, by quantization:</source>
        <translation>%1 的 GGUF 文件（按量化类型分组）：</translation>
    </message>
    <message>
        <source>Other</source>
        <translation>其他</translation>
    </message>
    <message numerus="yes">
        <source>%1 (%n parts)</source>
        <translation>
            <numerusform>%1（%n 个分卷）</numerusform>
        </translation>
    </message>
    <message>
        <source>Parts missing</source>
        <translation>缺少分卷</translation>
    </message>
    <message>
        <source>Weights only at the chosen context; the KV cache is added once the file is downloaded and its header can be read.</source>
        <translation>仅按所选上下文估算权重；文件下载完成、可以读取其文件头后，才会计入 KV 缓存。</translation>
    </message>
    <message>
        <source>Queued %1.</source>
        <translation>已将 %1 加入下载队列。</translation>
    </message>
    <message>
        <source>%1 of %2</source>
        <translation>%1 / %2</translation>
    </message>
    <message>
        <source>%1/s</source>
        <translation>%1/秒</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::DistillJob</name>
    <message>
        <source>Reading the teacher</source>
        <translation>正在读取教师模型</translation>
    </message>
    <message>
        <source>Training the student</source>
        <translation>正在训练学生模型</translation>
    </message>
    <message>
        <source>Training the student, step %1 of %2</source>
        <translation>正在训练学生模型，第 %1 步，共 %2 步</translation>
    </message>
    <message>
        <source>Student: %1 of the teacher&apos;s %2 layers, %3 parameters; %4 steps, validation loss %5.</source>
        <translation>学生模型：教师 %2 层中的 %1 层，%3 个参数；%4 步，验证损失 %5。</translation>
    </message>
    <message>
        <source>Measuring the student against the teacher</source>
        <translation>正在对照教师模型测量学生模型</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::DistillWizard</name>
    <message>
        <source>Distill a model</source>
        <translation>蒸馏模型</translation>
    </message>
    <message>
        <source>Done in %1 s.</source>
        <translation>用时 %1 秒完成。</translation>
    </message>
    <message>
        <source>Teacher</source>
        <translation>教师模型</translation>
    </message>
    <message>
        <source>This student</source>
        <translation>本次的学生模型</translation>
    </message>
    <message>
        <source>Student</source>
        <translation>学生模型</translation>
    </message>
    <message>
        <source>Validation loss after training</source>
        <translation>训练后的验证损失</translation>
    </message>
    <message>
        <source>The run failed: %1</source>
        <translation>运行失败：%1</translation>
    </message>
    <message>
        <source>Cancelled. No file was written; go back to change the run, or close.</source>
        <translation>已取消。没有写入任何文件；可以返回修改设置，或关闭。</translation>
    </message>
    <message>
        <source>Which teacher?</source>
        <translation>选择哪个教师模型？</translation>
    </message>
    <message>
        <source>The model whose behaviour a smaller student learns. It stays as it is.</source>
        <translation>较小的学生模型要学习其行为的模型。它本身保持不变。</translation>
    </message>
    <message>
        <source>&amp;Teacher:</source>
        <translation>教师模型(&amp;T)：</translation>
    </message>
    <message>
        <source>How small a student, trained how?</source>
        <translation>学生模型多小，如何训练？</translation>
    </message>
    <message>
        <source>The student starts from some of the teacher&apos;s layers, spread evenly, and learns from the teacher&apos;s softened next-token distributions plus the text itself.</source>
        <translation>学生模型从教师模型中均匀选取的若干层开始，学习教师模型软化后的下一词元分布以及文本本身。</translation>
    </message>
    <message>
        <source>Weight of matching the teacher; the rest goes to predicting the text.</source>
        <translation>模仿教师模型所占的权重；其余用于预测文本。</translation>
    </message>
    <message>
        <source>Softens both distributions so the student learns the teacher&apos;s second choices too.</source>
        <translation>软化两个分布，让学生模型也学到教师模型的次优选择。</translation>
    </message>
    <message>
        <source>&amp;Without the teacher (cross-entropy only: the baseline to compare with)</source>
        <translation>不用教师模型(&amp;W)（仅交叉熵：用于对比的基线）</translation>
    </message>
    <message>
        <source>C&amp;hoose…</source>
        <translation>选择(&amp;H)…</translation>
    </message>
    <message>
        <source>Student &amp;layers:</source>
        <translation>学生模型层数(&amp;L)：</translation>
    </message>
    <message>
        <source>Training st&amp;eps:</source>
        <translation>训练步数(&amp;E)：</translation>
    </message>
    <message>
        <source>&amp;Batch (windows per step):</source>
        <translation>批大小(&amp;B)（每步窗口数）：</translation>
    </message>
    <message>
        <source>&amp;Window (tokens):</source>
        <translation>窗口长度(&amp;W)（词元）：</translation>
    </message>
    <message>
        <source>Learning &amp;rate:</source>
        <translation>学习率(&amp;R)：</translation>
    </message>
    <message>
        <source>&amp;Alpha (KL weight):</source>
        <translation>Alpha(&amp;A)（KL 权重）：</translation>
    </message>
    <message>
        <source>&amp;Temperature:</source>
        <translation>温度(&amp;T)：</translation>
    </message>
    <message>
        <source>S&amp;eed:</source>
        <translation>随机种子(&amp;E)：</translation>
    </message>
    <message>
        <source>Save &amp;as:</source>
        <translation>另存为(&amp;A)：</translation>
    </message>
    <message>
        <source>Save the student as</source>
        <translation>学生模型另存为</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf)</source>
        <translation>GGUF 模型 (*.gguf)</translation>
    </message>
    <message>
        <source>Which training text?</source>
        <translation>使用哪个训练文本？</translation>
    </message>
    <message>
        <source>The student trains on the first three quarters; the last quarter measures it against the teacher. More text of the kind the model will read gives a better student.</source>
        <translation>学生模型在前四分之三的文本上训练；最后四分之一用于对照教师模型进行测量。与模型日后要读的内容相似的文本越多，学生模型越好。</translation>
    </message>
    <message>
        <source>The &amp;shipped short stories (about 11 KB: a quick demonstration, not a good student)</source>
        <translation>自带的短篇故事(&amp;S)（约 11 KB：快速演示，训练不出好的学生模型）</translation>
    </message>
    <message>
        <source>Training the student</source>
        <translation>正在训练学生模型</translation>
    </message>
    <message>
        <source>The app stays usable meanwhile. Pause holds the training; Cancel leaves no file.</source>
        <translation>运行期间应用仍可使用。暂停会挂起训练；取消不会留下文件。</translation>
    </message>
    <message>
        <source>What the student cost</source>
        <translation>学生模型的代价</translation>
    </message>
    <message>
        <source>The student next to its teacher and every earlier run from the same teacher.</source>
        <translation>学生模型与其教师模型以及同一教师模型的每次早先运行对比。</translation>
    </message>
    <message>
        <source>Add a model to the library or browse for a GGUF file.</source>
        <translation>请向模型库添加模型，或浏览选择一个 GGUF 文件。</translation>
    </message>
    <message>
        <source>Reading %1…</source>
        <translation>正在读取 %1…</translation>
    </message>
    <message>
        <source>This file cannot be a teacher: %1</source>
        <translation>此文件不能作为教师模型：%1</translation>
    </message>
    <message numerus="yes">
        <source>%1: %n layer(s), %2 MB on disk.</source>
        <translation>
            <numerusform>%1：%n 层，磁盘上 %2 MB。</numerusform>
        </translation>
    </message>
    <message>
        <source>Predicted size: reading the teacher…</source>
        <translation>预计大小：正在读取教师模型…</translation>
    </message>
    <message>
        <source>Predicted student: %1 MB in F16 (the teacher is %2 MB on disk); generation about %3× the teacher&apos;s speed in F16 (it reads every weight once per token).</source>
        <translation>预计学生模型：F16 下 %1 MB（教师模型在磁盘上 %2 MB）；生成速度约为 F16 教师模型的 %3 倍（每个词元读取每个权重一次）。</translation>
    </message>
    <message>
        <source>Choose a teacher first.</source>
        <translation>请先选择教师模型。</translation>
    </message>
    <message>
        <source>A student of %1 layers is not smaller than the teacher (%2 layers).</source>
        <translation>%1 层的学生模型并不比教师模型（%2 层）小。</translation>
    </message>
    <message>
        <source>Choose where to save the student.</source>
        <translation>请选择学生模型的保存位置。</translation>
    </message>
    <message>
        <source>The student cannot replace its teacher; choose another name.</source>
        <translation>学生模型不能覆盖其教师模型；请换一个名称。</translation>
    </message>
    <message>
        <source>The folder %1 cannot be written to.</source>
        <translation>无法写入文件夹 %1。</translation>
    </message>
    <message>
        <source>The text file %1 cannot be read.</source>
        <translation>无法读取文本文件 %1。</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在开始…</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::EngineSession</name>
    <message>
        <source>Reading model file</source>
        <translation>正在读取模型文件</translation>
    </message>
    <message>
        <source>Reading weights</source>
        <translation>正在读取权重</translation>
    </message>
    <message>
        <source>Preparing the compute device</source>
        <translation>正在准备计算设备</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>就绪</translation>
    </message>
    <message>
        <source>No model is loaded.</source>
        <translation>尚未加载模型。</translation>
    </message>
    <message>
        <source>the draft model %1 has a vocabulary of %2 tokens, the conversation&apos;s model %3</source>
        <translation>草稿模型 %1 的词表有 %2 个词元，而对话所用的模型有 %3 个</translation>
    </message>
    <message>
        <source>Draft model: %1</source>
        <translation>草稿模型：%1</translation>
    </message>
    <message>
        <source>A benchmark of %1 prompt and %2 generated tokens does not fit the %3-token context.</source>
        <translation>%1 个提示词元加 %2 个生成词元的基准测试超出了 %3 个词元的上下文。</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::HubService</name>
    <message>
        <source>the download queue</source>
        <translation>下载队列</translation>
    </message>
    <message>
        <source>Search for “%1”</source>
        <translation>搜索“%1”</translation>
    </message>
    <message>
        <source>Files of %1</source>
        <translation>读取 %1 的文件</translation>
    </message>
    <message>
        <source>Download of %1</source>
        <translation>下载 %1</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::MainWindow</name>
    <message>
        <source>Tenfold</source>
        <translation>Tenfold</translation>
    </message>
    <message>
        <source>No model loaded</source>
        <translation>未加载模型</translation>
    </message>
    <message>
        <source>Loading model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <source>%1
%2</source>
        <translation>%1
%2</translation>
    </message>
    <message>
        <source>Dismiss this message</source>
        <translation>关闭此消息</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::MessageBubble</name>
    <message>
        <source>%1 in · %2 out · first token %3 ms · %4 tokens/s</source>
        <translation>输入 %1 · 输出 %2 · 首词元 %3 毫秒 · %4 词元/秒</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Edit and resend</source>
        <translation>编辑并重新发送</translation>
    </message>
    <message>
        <source>Regenerate</source>
        <translation>重新生成</translation>
    </message>
    <message>
        <source>writing…</source>
        <translation>正在生成…</translation>
    </message>
    <message>
        <source>interrupted — the app closed before this reply finished</source>
        <translation>已中断——应用在回复完成前关闭</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>failed: %1</source>
        <translation>失败：%1</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::ModelDetailsDialog</name>
    <message>
        <source>Model details — %1</source>
        <translation>模型详情——%1</translation>
    </message>
    <message>
        <source>%1 · %2 · %3 parameters · %4</source>
        <translation>%1 · %2 · %3 个参数 · %4</translation>
    </message>
    <message>
        <source>Key</source>
        <translation>键</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>值</translation>
    </message>
    <message>
        <source>Metadata (%1)</source>
        <translation>元数据（%1）</translation>
    </message>
    <message>
        <source>Tensor</source>
        <translation>张量</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>类型</translation>
    </message>
    <message>
        <source>Shape</source>
        <translation>形状</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Tensors (%1)</source>
        <translation>张量（%1）</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::ModelFacts</name>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>%1B</source>
        <translation>%1B</translation>
    </message>
    <message>
        <source>%1M</source>
        <translation>%1M</translation>
    </message>
    <message>
        <source>%1K</source>
        <translation>%1K</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::ModelLibraryModel</name>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Architecture</source>
        <translation>架构</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>参数量</translation>
    </message>
    <message>
        <source>Weight types</source>
        <translation>权重类型</translation>
    </message>
    <message>
        <source>File size</source>
        <translation>文件大小</translation>
    </message>
    <message>
        <source>Context</source>
        <translation>上下文</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::ModelsPage</name>
    <message>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Add file…</source>
        <translation>添加文件…</translation>
    </message>
    <message>
        <source>Add folder…</source>
        <translation>添加文件夹…</translation>
    </message>
    <message>
        <source>Details…</source>
        <translation>详情…</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Load</source>
        <translation>加载</translation>
    </message>
    <message>
        <source>Select a model in the library.</source>
        <translation>请在模型库中选择一个模型。</translation>
    </message>
    <message>
        <source>Context length:</source>
        <translation>上下文长度：</translation>
    </message>
    <message>
        <source>Model default</source>
        <translation>模型默认值</translation>
    </message>
    <message>
        <source>Unload</source>
        <translation>卸载</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>%1 — %p%</source>
        <translation>%1 — %p%</translation>
    </message>
    <message>
        <source>Loaded %1 on %2 with a context of %3 tokens (chat format: %4).</source>
        <translation>已在 %2 上加载 %1，上下文为 %3 个词元（对话格式：%4）。</translation>
    </message>
    <message>
        <source>the model library</source>
        <translation>模型库</translation>
    </message>
    <message>
        <source>Could not load %1: %2</source>
        <translation>无法加载 %1：%2</translation>
    </message>
    <message>
        <source>Loading was cancelled.</source>
        <translation>已取消加载。</translation>
    </message>
    <message>
        <source>The model was unloaded.</source>
        <translation>模型已卸载。</translation>
    </message>
    <message numerus="yes">
        <source>Reading %n file(s)…</source>
        <translation>
            <numerusform>正在读取 %n 个文件…</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Could not add %n file(s):</source>
        <translation>
            <numerusform>无法添加 %n 个文件：</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Added %n model(s) to the library.</source>
        <translation>
            <numerusform>已将 %n 个模型加入模型库。</numerusform>
        </translation>
    </message>
    <message>
        <source>Add model files</source>
        <translation>添加模型文件</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation>GGUF 模型 (*.gguf);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Add a folder of models</source>
        <translation>添加模型文件夹</translation>
    </message>
    <message>
        <source>Looking for models in %1…</source>
        <translation>正在 %1 中查找模型…</translation>
    </message>
    <message>
        <source>No .gguf files were found in %1.</source>
        <translation>在 %1 中没有找到 .gguf 文件。</translation>
    </message>
    <message>
        <source>Removed %1 from the library (the file itself is kept).</source>
        <translation>已从模型库中移除 %1（文件本身仍保留）。</translation>
    </message>
    <message>
        <source>Reading the file…</source>
        <translation>正在读取文件…</translation>
    </message>
    <message>
        <source>free RAM</source>
        <translation>可用内存</translation>
    </message>
    <message>
        <source>memory on %1</source>
        <translation>%1 上的显存</translation>
    </message>
    <message>
        <source>Needs %1 (weights %2 + KV cache %3 for %4 tokens + working memory %5); %6: %7</source>
        <translation>需要 %1（权重 %2 + %4 个词元的 KV 缓存 %3 + 工作内存 %5）；%6：%7</translation>
    </message>
    <message>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>Fits</source>
        <translation>可以装下</translation>
    </message>
    <message>
        <source>Tight</source>
        <translation>比较紧张</translation>
    </message>
    <message>
        <source>Won&apos;t fit</source>
        <translation>装不下</translation>
    </message>
    <message>
        <source>Unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <source>&amp;Library</source>
        <translation>模型库(&amp;L)</translation>
    </message>
    <message>
        <source>Disco&amp;ver</source>
        <translation>发现(&amp;V)</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::OptimizePage</name>
    <message>
        <source>Make a model smaller and see exactly what it costs in quality: every run is measured against the original (KL divergence on text calibration never saw) and kept here.</source>
        <translation>让模型变小，并准确看到它在质量上付出的代价：每次运行都与原始模型对比测量（在校准从未见过的文本上计算 KL 散度），并保存在这里。</translation>
    </message>
    <message>
        <source>&amp;Quantize a model…</source>
        <translation>量化模型(&amp;Q)…</translation>
    </message>
    <message>
        <source>Quantize a model (Ctrl+Shift+Q)</source>
        <translation>量化模型（Ctrl+Shift+Q）</translation>
    </message>
    <message>
        <source>When</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Recipe</source>
        <translation>方案</translation>
    </message>
    <message>
        <source>Size (MB)</source>
        <translation>大小（MB）</translation>
    </message>
    <message>
        <source>Mean KLD</source>
        <translation>平均 KLD</translation>
    </message>
    <message>
        <source>Perplexity</source>
        <translation>困惑度</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>the optimization history</source>
        <translation>优化历史</translation>
    </message>
    <message>
        <source>%1 MB budget</source>
        <translation>%1 MB 预算</translation>
    </message>
    <message>
        <source>done</source>
        <translation>完成</translation>
    </message>
    <message>
        <source>cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Original</source>
        <translation>原始模型</translation>
    </message>
    <message>
        <source>Optimize</source>
        <translation>优化</translation>
    </message>
    <message>
        <source>&amp;Prune a model…</source>
        <translation>剪枝模型(&amp;P)…</translation>
    </message>
    <message>
        <source>Remove weights, heads, channels or layers (Ctrl+Shift+P)</source>
        <translation>移除权重、注意力头、通道或层（Ctrl+Shift+P）</translation>
    </message>
    <message>
        <source>&amp;Distill a model…</source>
        <translation>蒸馏模型(&amp;D)…</translation>
    </message>
    <message>
        <source>Train a smaller student on a teacher (Ctrl+Shift+D)</source>
        <translation>依据教师模型训练一个更小的学生模型（Ctrl+Shift+D）</translation>
    </message>
    <message>
        <source>&amp;Compress a model…</source>
        <translation>压缩模型(&amp;C)…</translation>
    </message>
    <message>
        <source>Compress a model by low-rank factorisation or palettes (Ctrl+Shift+C)</source>
        <translation>通过低秩分解或调色板压缩模型 (Ctrl+Shift+C)</translation>
    </message>
    <message>
        <source>No runs yet. Quantize, compress, prune or distill a model to see what each size costs.</source>
        <translation>尚无运行记录。量化、压缩、剪枝或蒸馏一个模型，看看每种大小的代价。</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::ProfilerPage</name>
    <message>
        <source>other</source>
        <translation>其他</translation>
    </message>
    <message>
        <source>L%1</source>
        <translation>第%1层</translation>
    </message>
    <message>
        <source>Profiler</source>
        <translation>性能分析</translation>
    </message>
    <message>
        <source>&amp;Time every operation</source>
        <translation>为每个运算计时(&amp;T)</translation>
    </message>
    <message>
        <source>Re&amp;load the model</source>
        <translation>重新加载模型(&amp;L)</translation>
    </message>
    <message>
        <source>Load the current model again so the setting takes effect</source>
        <translation>重新加载当前模型，使该设置生效</translation>
    </message>
    <message>
        <source>&amp;Measure memory bandwidth</source>
        <translation>测量内存带宽(&amp;M)</translation>
    </message>
    <message>
        <source>Reads 1 GiB five times with the CPU&apos;s threads, as tenfold-cli bench --memory does</source>
        <translation>用 CPU 线程把 1 GiB 读取五次，与 tenfold-cli bench --memory 相同</translation>
    </message>
    <message>
        <source>Memory bandwidth not measured yet.</source>
        <translation>尚未测量内存带宽。</translation>
    </message>
    <message>
        <source>No reply profiled yet.</source>
        <translation>尚无已分析的回复。</translation>
    </message>
    <message>
        <source>Tokens per second</source>
        <translation>每秒词元数</translation>
    </message>
    <message>
        <source>Generated tokens per second over time</source>
        <translation>每秒生成词元数随时间的变化</translation>
    </message>
    <message>
        <source>tokens/s</source>
        <translation>词元/秒</translation>
    </message>
    <message>
        <source>seconds</source>
        <translation>秒</translation>
    </message>
    <message>
        <source>CPU use per core</source>
        <translation>每个 CPU 核心的占用</translation>
    </message>
    <message>
        <source>Busy share of each CPU core</source>
        <translation>每个 CPU 核心的繁忙比例</translation>
    </message>
    <message>
        <source>Time per operation and layer (last forward pass)</source>
        <translation>各运算在各层的耗时（最近一次前向计算）</translation>
    </message>
    <message>
        <source>Microseconds of each operation in each layer</source>
        <translation>每一层中每个运算的微秒数</translation>
    </message>
    <message>
        <source>Operations, summed over the decode passes sampled during the reply</source>
        <translation>运算耗时，按回复期间采样的解码步骤求和</translation>
    </message>
    <message>
        <source>Operation</source>
        <translation>运算</translation>
    </message>
    <message>
        <source>Layer</source>
        <translation>层</translation>
    </message>
    <message>
        <source>Total (µs)</source>
        <translation>合计（微秒）</translation>
    </message>
    <message>
        <source>Per pass (µs)</source>
        <translation>每步（微秒）</translation>
    </message>
    <message>
        <source>Share</source>
        <translation>占比</translation>
    </message>
    <message>
        <source>Calls</source>
        <translation>次数</translation>
    </message>
    <message>
        <source>&amp;Record this profile</source>
        <translation>记录此分析结果(&amp;R)</translation>
    </message>
    <message>
        <source>Compare two recordings</source>
        <translation>比较两条记录</translation>
    </message>
    <message>
        <source>&amp;First:</source>
        <translation>第一条(&amp;F)：</translation>
    </message>
    <message>
        <source>&amp;Second:</source>
        <translation>第二条(&amp;S)：</translation>
    </message>
    <message>
        <source>Figure</source>
        <translation>指标</translation>
    </message>
    <message>
        <source>First</source>
        <translation>第一条</translation>
    </message>
    <message>
        <source>Second</source>
        <translation>第二条</translation>
    </message>
    <message>
        <source>Second / first</source>
        <translation>第二条 / 第一条</translation>
    </message>
    <message>
        <source>No model is loaded.</source>
        <translation>尚未加载模型。</translation>
    </message>
    <message>
        <source>%1 is loaded with every operation timed.</source>
        <translation>%1 已加载，并为每个运算计时。</translation>
    </message>
    <message>
        <source>%1 is loaded without timing: replies show speed and memory only.</source>
        <translation>%1 已加载但未计时：回复只显示速度和内存。</translation>
    </message>
    <message>
        <source>busy</source>
        <translation>繁忙</translation>
    </message>
    <message>
        <source>Decode: %1 tokens/s (%L2 tokens). Prefill: %3 tokens/s (%L4 tokens).</source>
        <translation>解码：%1 词元/秒（%L2 个词元）。预填充：%3 词元/秒（%L4 个词元）。</translation>
    </message>
    <message>
        <source>Prefill: %1 GFLOP/s.</source>
        <translation>预填充：%1 GFLOP/s。</translation>
    </message>
    <message>
        <source>Decode reads %1 GB/s: %2% of the machine&apos;s measured %3 GB/s.</source>
        <translation>解码读取 %1 GB/s：占本机实测 %3 GB/s 的 %2%。</translation>
    </message>
    <message>
        <source>Decode reads %1 GB/s (measure the memory bandwidth for the share).</source>
        <translation>解码读取 %1 GB/s（测量内存带宽后可显示占比）。</translation>
    </message>
    <message>
        <source>Memory: process %1, KV cache %2, weights %3.</source>
        <translation>内存：进程 %1，KV 缓存 %2，权重 %3。</translation>
    </message>
    <message>
        <source>µs</source>
        <translation>微秒</translation>
    </message>
    <message>
        <source>Measuring…</source>
        <translation>正在测量…</translation>
    </message>
    <message>
        <source>Memory read bandwidth: %1 GB/s.</source>
        <translation>内存读取带宽：%1 GB/s。</translation>
    </message>
    <message>
        <source>The memory bandwidth could not be measured (not enough memory).</source>
        <translation>无法测量内存带宽（内存不足）。</translation>
    </message>
    <message>
        <source>Recording…</source>
        <translation>正在记录…</translation>
    </message>
    <message>
        <source>Recorded.</source>
        <translation>已记录。</translation>
    </message>
    <message>
        <source>the profile</source>
        <translation>分析结果</translation>
    </message>
    <message>
        <source>Could not record the profile.</source>
        <translation>无法记录分析结果。</translation>
    </message>
    <message>
        <source>the recorded profiles</source>
        <translation>已记录的分析结果</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Quantization</source>
        <translation>量化</translation>
    </message>
    <message>
        <source>Device</source>
        <translation>设备</translation>
    </message>
    <message>
        <source>Decode tokens/s</source>
        <translation>解码 词元/秒</translation>
    </message>
    <message>
        <source>Prefill tokens/s</source>
        <translation>预填充 词元/秒</translation>
    </message>
    <message>
        <source>Prefill GFLOP/s</source>
        <translation>预填充 GFLOP/s</translation>
    </message>
    <message>
        <source>Share of memory bandwidth (%)</source>
        <translation>内存带宽占比（%）</translation>
    </message>
    <message>
        <source>Process memory</source>
        <translation>进程内存</translation>
    </message>
    <message>
        <source>%1 (µs per pass)</source>
        <translation>%1（每步微秒）</translation>
    </message>
    <message>
        <source>Where a reply&apos;s time goes, live while the chat generates, a benchmark runs or the Server page&apos;s server (started with its timing switch) serves: speed, the time of every operation in every layer (CPU timers or GPU timestamps), memory, CPU use per core, and how close decoding comes to the machine&apos;s memory bandwidth. Timing every operation costs a little speed, so it is a switch, applied when a model loads.</source>
        <translation>回复的时间花在哪里——在对话生成、基准测试运行或“服务器”页面的服务器（开启计时开关启动）提供服务时实时显示：速度、每一层每个操作的耗时（CPU 计时器或 GPU 时间戳）、内存、每个 CPU 核心的占用，以及解码离本机内存带宽还有多远。为每个操作计时会稍微降低速度，所以它是一个开关，在加载模型时生效。</translation>
    </message>
    <message>
        <source>Benchmark the loaded model</source>
        <translation>对已加载的模型做基准测试</translation>
    </message>
    <message>
        <source>&amp;Prompt tokens:</source>
        <translation>提示词元数(&amp;P)：</translation>
    </message>
    <message>
        <source>Processed in one pass from an empty cache (prefill)</source>
        <translation>从空缓存一次处理完（预填充）</translation>
    </message>
    <message>
        <source>&amp;Tokens to generate:</source>
        <translation>生成词元数(&amp;T)：</translation>
    </message>
    <message>
        <source>Decoded one at a time after the prompt</source>
        <translation>在提示之后逐个解码</translation>
    </message>
    <message>
        <source>Run &amp;benchmark</source>
        <translation>运行基准测试(&amp;B)</translation>
    </message>
    <message>
        <source>The same test as tenfold-cli bench -p N -n M, on the model as loaded here</source>
        <translation>与 tenfold-cli bench -p N -n M 相同的测试，作用于此处已加载的模型</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Runs a prompt pass and a decode run on the loaded model and records them in the usage ledger (Cost history: source &quot;Benchmark&quot;).</source>
        <translation>在已加载的模型上运行一次提示处理和一段解码，并记入用量账本（成本历史：来源“基准测试”）。</translation>
    </message>
    <message>
        <source>The benchmark failed: %1</source>
        <translation>基准测试失败：%1</translation>
    </message>
    <message>
        <source>%p% · about %1 s left</source>
        <translation>%p% · 约剩 %1 秒</translation>
    </message>
    <message>
        <source>Server: waiting for the second poll to measure rates.</source>
        <translation>服务器：等待第二次轮询以计算速率。</translation>
    </message>
    <message>
        <source>Server: %1 tokens/s generated and %2 prompt tokens/s computed over the last %3 s; %4 passes/s, busy %5% of the time.</source>
        <translation>服务器：最近 %3 秒内每秒生成 %1 个词元、计算 %2 个提示词元；每秒 %4 次前向计算，%5% 的时间在忙。</translation>
    </message>
    <message>
        <source>Weights read: %1 GB/s (once per pass): %2% of the machine&apos;s measured %3 GB/s.</source>
        <translation>权重读取：%1 GB/s（每次前向计算一次）：本机实测 %3 GB/s 的 %2%。</translation>
    </message>
    <message>
        <source>Weights read: %1 GB/s (once per pass; measure the memory bandwidth for the share).</source>
        <translation>权重读取：%1 GB/s（每次前向计算一次；测量内存带宽以得到占比）。</translation>
    </message>
    <message>
        <source>Last pass: %1 rows, %2 of them prompt rows; %3 sequences generating. Server process memory: %4.</source>
        <translation>上一次前向计算：%1 行，其中 %2 行为提示行；%3 个序列正在生成。服务器进程内存：%4。</translation>
    </message>
    <message>
        <source>%1 prompt and %2 generated tokens do not fit the loaded %3-token context.</source>
        <translation>%1 个提示词元加 %2 个生成词元超出了已加载的 %3 个词元的上下文。</translation>
    </message>
    <message>
        <source>The model is busy; try again when the reply has finished.</source>
        <translation>模型正忙；请在回复结束后再试。</translation>
    </message>
    <message>
        <source>Running: a %1-token prompt, then %2 tokens…</source>
        <translation>正在运行：%1 个词元的提示，然后生成 %2 个词元…</translation>
    </message>
    <message>
        <source>pp%1: %2 tokens/s</source>
        <translation>pp%1：%2 词元/秒</translation>
    </message>
    <message>
        <source>%1 GFLOP/s</source>
        <translation>%1 GFLOP/s</translation>
    </message>
    <message>
        <source>tg%1: %2 tokens/s</source>
        <translation>tg%1：%2 词元/秒</translation>
    </message>
    <message>
        <source>%1 GB/s of weights</source>
        <translation>权重 %1 GB/s</translation>
    </message>
    <message>
        <source>%1% of the measured bandwidth</source>
        <translation>实测带宽的 %1%</translation>
    </message>
    <message>
        <source>%1 J measured</source>
        <translation>实测 %1 焦耳</translation>
    </message>
    <message>
        <source>%1 J estimated</source>
        <translation>估算 %1 焦耳</translation>
    </message>
    <message>
        <source>the benchmark</source>
        <translation>基准测试</translation>
    </message>
    <message>
        <source>tenfold-server</source>
        <translation>tenfold-server</translation>
    </message>
    <message>
        <source>Cancelled after %1 generated tokens: %2</source>
        <translation>生成 %1 个词元后已取消：%2</translation>
    </message>
    <message>
        <source>device-local</source>
        <translation>显存</translation>
    </message>
    <message>
        <source>host</source>
        <translation>主机内存</translation>
    </message>
    <message>
        <source>GPU heap %1 (%2): %3 in use by every process, of a %4 budget (heap %5).</source>
        <translation>GPU 内存堆 %1（%2）：所有进程共用 %3，预算 %4（堆大小 %5）。</translation>
    </message>
    <message>
        <source>GPU heap %1 (%2): %3 held by Tenfold, of %4 (the driver reports no budget).</source>
        <translation>GPU 内存堆 %1（%2）：Tenfold 占用 %3，共 %4（驱动未报告预算）。</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::PromptLabPage</name>
    <message>
        <source>Prompt lab</source>
        <translation>提示词实验室</translation>
    </message>
    <message>
        <source>Type or paste a prompt: its tokens in the loaded model are counted as you type.</source>
        <translation>输入或粘贴提示词：输入时即按已加载的模型统计词元数。</translation>
    </message>
    <message>
        <source>Prompt to count</source>
        <translation>要统计的提示词</translation>
    </message>
    <message>
        <source>&amp;Tokens</source>
        <translation>词元(&amp;T)</translation>
    </message>
    <message>
        <source>Te&amp;mplate</source>
        <translation>模板(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Compression</source>
        <translation>压缩(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;A/B</source>
        <translation>&amp;A/B</translation>
    </message>
    <message>
        <source>No model loaded. Load one on the Models page; the lab uses it on the CPU.</source>
        <translation>尚未加载模型。请在“模型”页面加载；实验室在 CPU 上使用它。</translation>
    </message>
    <message>
        <source>%1 · chat template: %2 · the lab runs it on the CPU with a %3-token context</source>
        <translation>%1 · 聊天模板：%2 · 实验室在 CPU 上以 %3 词元的上下文运行它</translation>
    </message>
    <message>
        <source>Cannot open %1: %2</source>
        <translation>无法打开 %1：%2</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::PromptLabWorker</name>
    <message>
        <source>Opening the scoring model</source>
        <translation>正在打开打分模型</translation>
    </message>
    <message>
        <source>the scoring model has a vocabulary of %1 tokens, the loaded model %2</source>
        <translation>打分模型的词表有 %1 个词元，已加载的模型有 %2 个</translation>
    </message>
    <message>
        <source>Scoring the prompt</source>
        <translation>正在为提示词打分</translation>
    </message>
    <message>
        <source>Comparing the answers</source>
        <translation>正在比较回答</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>a prompt is empty</source>
        <translation>有一个提示词为空</translation>
    </message>
    <message>
        <source>a prompt of %1 tokens plus %2 to generate does not fit the context (%3)</source>
        <translation>%1 个词元的提示词加上要生成的 %2 个词元超出了上下文（%3）</translation>
    </message>
    <message>
        <source>Running prompt A</source>
        <translation>正在运行提示词 A</translation>
    </message>
    <message>
        <source>Running prompt B</source>
        <translation>正在运行提示词 B</translation>
    </message>
    <message>
        <source>Input %1 of %2: prompt A</source>
        <translation>第 %1/%2 个输入：提示 A</translation>
    </message>
    <message>
        <source>Input %1 of %2: prompt B</source>
        <translation>第 %1/%2 个输入：提示 B</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::PruneJob</name>
    <message>
        <source>Reading the model</source>
        <translation>正在读取模型</translation>
    </message>
    <message>
        <source>Reading activations on the calibration text</source>
        <translation>正在读取校准文本上的激活值</translation>
    </message>
    <message>
        <source>Pruning the weights</source>
        <translation>正在剪枝权重</translation>
    </message>
    <message>
        <source>Writing the pruned model</source>
        <translation>正在写入剪枝后的模型</translation>
    </message>
    <message>
        <source>Preparing recovery training</source>
        <translation>正在准备恢复训练</translation>
    </message>
    <message>
        <source>Recovery training, step %1 of %2</source>
        <translation>恢复训练，第 %1 步，共 %2 步</translation>
    </message>
    <message numerus="yes">
        <source>
Recovery: %n step(s), validation loss %1 (saved as F16).</source>
        <translation>
            <numerusform>
恢复训练：%n 步，验证损失 %1（以 F16 保存）。</numerusform>
        </translation>
    </message>
    <message>
        <source>Measuring quality against the original</source>
        <translation>正在与原始模型对比测量质量</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::PruneWizard</name>
    <message>
        <source>Prune a model</source>
        <translation>剪枝模型</translation>
    </message>
    <message>
        <source>Done in %1 s.</source>
        <translation>用时 %1 秒完成。</translation>
    </message>
    <message>
        <source>Original</source>
        <translation>原始模型</translation>
    </message>
    <message>
        <source>This run</source>
        <translation>本次运行</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>方法</translation>
    </message>
    <message>
        <source>The run failed: %1</source>
        <translation>运行失败：%1</translation>
    </message>
    <message>
        <source>Cancelled. No file was written; go back to change the run, or close.</source>
        <translation>已取消。没有写入任何文件；可以返回修改设置，或关闭。</translation>
    </message>
    <message>
        <source>Which model?</source>
        <translation>哪个模型？</translation>
    </message>
    <message>
        <source>The model to prune. It stays as it is; the result is a new file.</source>
        <translation>要剪枝的模型。它本身保持不变；结果是一个新文件。</translation>
    </message>
    <message>
        <source>&amp;Model:</source>
        <translation>模型(&amp;M)：</translation>
    </message>
    <message>
        <source>What to remove?</source>
        <translation>移除什么？</translation>
    </message>
    <message>
        <source>Zero the least important weights (the file keeps its shape), or cut whole KV head groups, FFN channels or layers (a smaller file any engine runs).</source>
        <translation>将最不重要的权重置零（文件形状不变），或整体移除 KV 头组、FFN 通道或层（得到任何引擎都能运行的更小文件）。</translation>
    </message>
    <message>
        <source>Wanda: weights × input activations (calibrated)</source>
        <translation>Wanda：权重 × 输入激活（需校准）</translation>
    </message>
    <message>
        <source>SparseGPT: prune and reconstruct (best quality, slower)</source>
        <translation>SparseGPT：剪枝并重建（质量最好，较慢）</translation>
    </message>
    <message>
        <source>Magnitude: smallest weights (no calibration)</source>
        <translation>幅值：最小的权重（无需校准）</translation>
    </message>
    <message>
        <source>KV head groups (structured)</source>
        <translation>KV 头组（结构化）</translation>
    </message>
    <message>
        <source>FFN channels (structured)</source>
        <translation>FFN 通道（结构化）</translation>
    </message>
    <message>
        <source>Whole layers (structured)</source>
        <translation>整层（结构化）</translation>
    </message>
    <message>
        <source>&amp;2:4 pattern (two of every four weights kept)</source>
        <translation>&amp;2:4 模式（每四个权重保留两个）</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Fine-tune the pruned model on the text afterwards; pruned weights stay zero.</source>
        <translation>剪枝后在文本上微调模型；被剪掉的权重保持为零。</translation>
    </message>
    <message>
        <source>C&amp;hoose…</source>
        <translation>选择(&amp;H)…</translation>
    </message>
    <message>
        <source>M&amp;ethod:</source>
        <translation>方法(&amp;E)：</translation>
    </message>
    <message>
        <source>&amp;Sparsity (share removed):</source>
        <translation>稀疏度(&amp;S)（移除比例）：</translation>
    </message>
    <message>
        <source>&amp;Layers to keep:</source>
        <translation>保留层数(&amp;L)：</translation>
    </message>
    <message>
        <source>&amp;Recovery steps:</source>
        <translation>恢复训练步数(&amp;R)：</translation>
    </message>
    <message>
        <source>Recovery learning &amp;rate:</source>
        <translation>恢复训练学习率(&amp;R)：</translation>
    </message>
    <message>
        <source>Save &amp;as:</source>
        <translation>另存为(&amp;A)：</translation>
    </message>
    <message>
        <source>Save the pruned model as</source>
        <translation>剪枝后的模型另存为</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf)</source>
        <translation>GGUF 模型 (*.gguf)</translation>
    </message>
    <message>
        <source>Which text?</source>
        <translation>用哪段文本？</translation>
    </message>
    <message>
        <source>Calibration (and recovery training) see the first three quarters of the text; quality is measured on the last quarter, which neither saw.</source>
        <translation>校准（以及恢复训练）使用文本的前四分之三；质量在两者都未见过的最后四分之一上测量。</translation>
    </message>
    <message>
        <source>The &amp;shipped short stories (about 11 KB: quick, rough figures)</source>
        <translation>内置短篇故事(&amp;S)（约 11 KB：快速，结果粗略）</translation>
    </message>
    <message>
        <source>Pruning</source>
        <translation>正在剪枝</translation>
    </message>
    <message>
        <source>The app stays usable meanwhile. Cancel leaves no partial file.</source>
        <translation>期间应用仍可使用。取消不会留下不完整的文件。</translation>
    </message>
    <message>
        <source>What it cost</source>
        <translation>代价如何</translation>
    </message>
    <message>
        <source>This file next to the original and every earlier run of the same model.</source>
        <translation>此文件与原始模型以及同一模型以前的每次运行对比。</translation>
    </message>
    <message>
        <source>Add a model to the library or browse for a GGUF file.</source>
        <translation>请向模型库添加模型，或浏览选择一个 GGUF 文件。</translation>
    </message>
    <message>
        <source>Reading %1…</source>
        <translation>正在读取 %1…</translation>
    </message>
    <message>
        <source>This file cannot be pruned: %1</source>
        <translation>此文件无法剪枝：%1</translation>
    </message>
    <message numerus="yes">
        <source>%1: %n layer(s), %2 MB on disk.</source>
        <translation>
            <numerusform>%1：%n 层，磁盘上 %2 MB。</numerusform>
        </translation>
    </message>
    <message>
        <source>Pruned weights become zeros in a file of the same size and speed: a 2:4 sparse CPU kernel was measured slower than dense (docs/PRUNING.md), so the gain is what a later quantization or sparse accelerator makes of the zeros.</source>
        <translation>被剪掉的权重变为零，文件大小和速度不变：实测 2:4 稀疏 CPU 内核比稠密的慢（docs/PRUNING.md），因此收益取决于之后的量化或稀疏加速器如何利用这些零。</translation>
    </message>
    <message>
        <source>The layers that change their input least (1 − cosine on the calibration text) go.</source>
        <translation>移除对输入改变最小的层（校准文本上的 1 − 余弦相似度）。</translation>
    </message>
    <message>
        <source>The same number of KV head groups (with the query heads that read them) goes from every layer, ranked by their share of the attention output.</source>
        <translation>每层移除相同数量的 KV 头组（连同读取它们的查询头），按其在注意力输出中的占比排序。</translation>
    </message>
    <message>
        <source>The same number of FFN channels goes from every layer, ranked by weight norm × activation on the calibration text.</source>
        <translation>每层移除相同数量的 FFN 通道，按权重范数 × 校准文本上的激活排序。</translation>
    </message>
    <message>
        <source>Predicted size: reading the model…</source>
        <translation>预计大小：正在读取模型…</translation>
    </message>
    <message>
        <source>Predicted size: %1 MB (%2% of %3 MB); generation about %4× the original&apos;s speed (it reads every weight once per token).</source>
        <translation>预计大小：%1 MB（%3 MB 的 %2%）；生成速度约为原模型的 %4 倍（每个词元读取每个权重一次）。</translation>
    </message>
    <message>
        <source>Choose a model first.</source>
        <translation>请先选择模型。</translation>
    </message>
    <message>
        <source>Choose where to save the result.</source>
        <translation>请选择结果的保存位置。</translation>
    </message>
    <message>
        <source>The result cannot replace the model it is made from; choose another name.</source>
        <translation>结果不能覆盖其来源模型；请换一个名称。</translation>
    </message>
    <message>
        <source>The folder %1 cannot be written to.</source>
        <translation>无法写入文件夹 %1。</translation>
    </message>
    <message>
        <source>The text file %1 cannot be read.</source>
        <translation>无法读取文本文件 %1。</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在开始…</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::QualityChart</name>
    <message>
        <source>Size and quality loss (lower left is better)</source>
        <translation>大小与质量损失（越靠左下越好）</translation>
    </message>
    <message>
        <source>Original</source>
        <translation>原始模型</translation>
    </message>
    <message>
        <source>Reference engine</source>
        <translation>参考引擎</translation>
    </message>
    <message>
        <source>Earlier runs</source>
        <translation>以前的运行</translation>
    </message>
    <message>
        <source>This run</source>
        <translation>本次运行</translation>
    </message>
    <message>
        <source>File size (MB)</source>
        <translation>文件大小（MB）</translation>
    </message>
    <message>
        <source>Reference engine %1 (%2)</source>
        <translation>参考引擎 %1（%2）</translation>
    </message>
    <message>
        <source>Mean KLD</source>
        <translation>平均 KLD</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::QuantizeJob</name>
    <message>
        <source>Reading the model</source>
        <translation>正在读取模型</translation>
    </message>
    <message>
        <source>Calibrating on the text</source>
        <translation>正在用文本校准</translation>
    </message>
    <message>
        <source>Measuring each tensor&apos;s sensitivity</source>
        <translation>正在测量每个张量的敏感度</translation>
    </message>
    <message>
        <source>Writing the quantized model</source>
        <translation>正在写入量化后的模型</translation>
    </message>
    <message>
        <source>Measuring quality against the original</source>
        <translation>正在与原始模型对比测量质量</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::QuantizeWizard</name>
    <message>
        <source>Quantize a model</source>
        <translation>量化模型</translation>
    </message>
    <message>
        <source>Done in %1 s.</source>
        <translation>用时 %1 秒完成。</translation>
    </message>
    <message>
        <source>The run failed: %1</source>
        <translation>运行失败：%1</translation>
    </message>
    <message>
        <source>Cancelled. No file was written; go back to change the run, or close.</source>
        <translation>已取消。没有写入任何文件；可以返回修改设置，或关闭。</translation>
    </message>
    <message>
        <source>Which model?</source>
        <translation>哪个模型？</translation>
    </message>
    <message>
        <source>The model to make smaller. It stays as it is; the result is a new file.</source>
        <translation>要变小的模型。原文件保持不变，结果是一个新文件。</translation>
    </message>
    <message>
        <source>&amp;Model:</source>
        <translation>模型(&amp;M)：</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf)</source>
        <translation>GGUF 模型 (*.gguf)</translation>
    </message>
    <message>
        <source>How small?</source>
        <translation>要多小？</translation>
    </message>
    <message>
        <source>One type for every weight, or a file size for which Tenfold measures each tensor&apos;s sensitivity and picks the mix that loses the least.</source>
        <translation>所有权重使用同一种类型；或者给定文件大小，由 Tenfold 测量每个张量的敏感度并选出损失最小的组合。</translation>
    </message>
    <message>
        <source>One &amp;type:</source>
        <translation>统一类型(&amp;T)：</translation>
    </message>
    <message>
        <source>A target &amp;size (MB):</source>
        <translation>目标大小(&amp;S)（MB）：</translation>
    </message>
    <message>
        <source>GPTQ: error feedback from calibration (best quality)</source>
        <translation>GPTQ：基于校准的误差反馈（质量最好）</translation>
    </message>
    <message>
        <source>Importance matrix: weighted rounding (faster)</source>
        <translation>重要性矩阵：加权舍入（较快）</translation>
    </message>
    <message>
        <source>Round to nearest: no calibration (fastest)</source>
        <translation>最近舍入：不校准（最快）</translation>
    </message>
    <message>
        <source>C&amp;hoose…</source>
        <translation>选择(&amp;H)…</translation>
    </message>
    <message>
        <source>&amp;Output projection:</source>
        <translation>输出投影(&amp;O)：</translation>
    </message>
    <message>
        <source>&amp;Method:</source>
        <translation>方法(&amp;M)：</translation>
    </message>
    <message>
        <source>Save &amp;as:</source>
        <translation>另存为(&amp;A)：</translation>
    </message>
    <message>
        <source>Save the quantized model as</source>
        <translation>将量化后的模型另存为</translation>
    </message>
    <message>
        <source>Which text?</source>
        <translation>用哪段文本？</translation>
    </message>
    <message>
        <source>Calibration sees the first three quarters of the text; quality is measured on the last quarter, which calibration never saw. Use text like what the model will read.</source>
        <translation>校准使用文本的前四分之三；质量在校准从未见过的最后四分之一上测量。请使用与模型将要阅读的内容相似的文本。</translation>
    </message>
    <message>
        <source>The &amp;shipped short stories (about 11 KB: quick, rough figures)</source>
        <translation>内置短篇故事(&amp;S)（约 11 KB：快速，结果粗略）</translation>
    </message>
    <message>
        <source>A text &amp;file:</source>
        <translation>文本文件(&amp;F)：</translation>
    </message>
    <message>
        <source>B&amp;rowse…</source>
        <translation>浏览(&amp;R)…</translation>
    </message>
    <message>
        <source>Choose a text</source>
        <translation>选择文本</translation>
    </message>
    <message>
        <source>Text files (*.txt);;All files (*)</source>
        <translation>文本文件 (*.txt);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Quantizing</source>
        <translation>正在量化</translation>
    </message>
    <message>
        <source>The app stays usable meanwhile. Cancel leaves no partial file.</source>
        <translation>期间应用仍可使用。取消不会留下不完整的文件。</translation>
    </message>
    <message>
        <source>&amp;Cancel the run</source>
        <translation>取消运行(&amp;C)</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
    <message>
        <source>What it cost</source>
        <translation>代价如何</translation>
    </message>
    <message>
        <source>This file next to the original and every earlier run of the same model.</source>
        <translation>此文件与原始模型以及同一模型以前的每次运行对比。</translation>
    </message>
    <message>
        <source>Measure</source>
        <translation>指标</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>数值</translation>
    </message>
    <message>
        <source>C&amp;hat with it</source>
        <translation>用它聊天(&amp;H)</translation>
    </message>
    <message>
        <source>Open &amp;folder</source>
        <translation>打开文件夹(&amp;F)</translation>
    </message>
    <message>
        <source>Add a model to the library or browse for a GGUF file.</source>
        <translation>请向模型库添加模型，或浏览选择一个 GGUF 文件。</translation>
    </message>
    <message>
        <source>Reading %1…</source>
        <translation>正在读取 %1…</translation>
    </message>
    <message>
        <source>This file cannot be quantized: %1</source>
        <translation>无法量化此文件：%1</translation>
    </message>
    <message>
        <source>%1, %2 on disk.</source>
        <translation>%1，磁盘上 %2。</translation>
    </message>
    <message>
        <source>Predicted size: reading the model…</source>
        <translation>预计大小：正在读取模型…</translation>
    </message>
    <message>
        <source>%1 MB is below the smallest file the types can make of this model (%2 MB).</source>
        <translation>%1 MB 低于这些类型能为此模型生成的最小文件（%2 MB）。</translation>
    </message>
    <message>
        <source>The file will be at most %1 MB (the original is %2 MB; the smallest possible %3 MB).</source>
        <translation>文件最多 %1 MB（原始模型 %2 MB；最小可能 %3 MB）。</translation>
    </message>
    <message>
        <source>Predicted size: %1 MB (%2% of the original&apos;s %3 MB).</source>
        <translation>预计大小：%1 MB（原始模型 %3 MB 的 %2%）。</translation>
    </message>
    <message>
        <source>Choose a model first.</source>
        <translation>请先选择模型。</translation>
    </message>
    <message>
        <source>Choose where to save the result.</source>
        <translation>请选择结果的保存位置。</translation>
    </message>
    <message>
        <source>The result cannot replace the model it is made from; choose another name.</source>
        <translation>结果不能覆盖其来源模型；请换一个名称。</translation>
    </message>
    <message>
        <source>The folder %1 cannot be written to.</source>
        <translation>无法写入文件夹 %1。</translation>
    </message>
    <message>
        <source>The text file %1 cannot be read.</source>
        <translation>无法读取文本文件 %1。</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>正在开始…</translation>
    </message>
    <message>
        <source>the optimization history</source>
        <translation>优化历史</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>%1 MB (was %2 MB, %3%)</source>
        <translation>%1 MB（原为 %2 MB，%3%）</translation>
    </message>
    <message>
        <source>Bits per weight</source>
        <translation>每权重位数</translation>
    </message>
    <message>
        <source>Mean KL divergence</source>
        <translation>平均 KL 散度</translation>
    </message>
    <message>
        <source>Median / 99th percentile KLD</source>
        <translation>KLD 中位数 / 第 99 百分位</translation>
    </message>
    <message>
        <source>Same top token</source>
        <translation>首选词元相同</translation>
    </message>
    <message>
        <source>Perplexity (original)</source>
        <translation>困惑度（原始模型）</translation>
    </message>
    <message>
        <source>Prompt / generation speed</source>
        <translation>提示词 / 生成速度</translation>
    </message>
    <message>
        <source>%1 / %2 tokens/s</source>
        <translation>%1 / %2 词元/秒</translation>
    </message>
    <message>
        <source>Tensors</source>
        <translation>张量</translation>
    </message>
    <message>
        <source>Measured on</source>
        <translation>测量依据</translation>
    </message>
    <message numerus="yes">
        <source>%n window(s) of held-out text</source>
        <translation>
            <numerusform>%n 个留出文本窗口</numerusform>
        </translation>
    </message>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
    <message>
        <source>Original</source>
        <translation>原始模型</translation>
    </message>
    <message>
        <source>This run</source>
        <translation>本次运行</translation>
    </message>
    <message>
        <source>Presets (Q8_0 … Q2_K) are the reference engine&apos;s mixes: more bits for the tensors most sensitive to rounding. Below the line: one type for every weight.</source>
        <translation>预设（Q8_0 … Q2_K）是参考引擎的混合方案：对舍入最敏感的张量使用更多比特。分隔线以下：所有权重使用同一种类型。</translation>
    </message>
    <message>
        <source>default</source>
        <translation>默认</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::ResultsView</name>
    <message>
        <source>Measure</source>
        <translation>指标</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>值</translation>
    </message>
    <message>
        <source>C&amp;hat with it</source>
        <translation>用它聊天(&amp;H)</translation>
    </message>
    <message>
        <source>Open &amp;folder</source>
        <translation>打开文件夹(&amp;F)</translation>
    </message>
    <message>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>%1 MB (was %2 MB, %3%)</source>
        <translation>%1 MB（原为 %2 MB，%3%）</translation>
    </message>
    <message>
        <source>Mean KL divergence</source>
        <translation>平均 KL 散度</translation>
    </message>
    <message>
        <source>Median / 99th percentile KLD</source>
        <translation>KLD 中位数 / 第 99 百分位</translation>
    </message>
    <message>
        <source>Same top token</source>
        <translation>首选词元相同</translation>
    </message>
    <message>
        <source>Perplexity (original)</source>
        <translation>困惑度（原始模型）</translation>
    </message>
    <message>
        <source>Prompt / generation speed</source>
        <translation>提示词 / 生成速度</translation>
    </message>
    <message>
        <source>%1 / %2 tokens/s</source>
        <translation>%1 / %2 词元/秒</translation>
    </message>
    <message>
        <source>What was done</source>
        <translation>做了什么</translation>
    </message>
    <message>
        <source>Measured on</source>
        <translation>测量依据</translation>
    </message>
    <message numerus="yes">
        <source>%n window(s) of held-out text</source>
        <translation>
            <numerusform>%n 个留出文本窗口</numerusform>
        </translation>
    </message>
    <message>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
    <message>
        <source>the optimization history</source>
        <translation>优化历史</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::RunView</name>
    <message>
        <source>&amp;Pause</source>
        <translation>暂停(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Cancel the run</source>
        <translation>取消运行(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;Resume</source>
        <translation>继续(&amp;R)</translation>
    </message>
    <message>
        <source>Paused after the current step. Resume to go on; Cancel keeps nothing.</source>
        <translation>当前步完成后暂停。点继续以接着运行；取消则不保留任何结果。</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>正在取消…</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::ServerClusterBox</name>
    <message>
        <source>Cluster (MPI)</source>
        <translation>集群（MPI）</translation>
    </message>
    <message>
        <source>Cluster summary</source>
        <translation>集群概况</translation>
    </message>
    <message>
        <source>Rank</source>
        <translation>进程号</translation>
    </message>
    <message>
        <source>Host</source>
        <translation>主机</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>角色</translation>
    </message>
    <message>
        <source>Layers</source>
        <translation>层</translation>
    </message>
    <message>
        <source>In flight</source>
        <translation>处理中</translation>
    </message>
    <message>
        <source>Served</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Ranks of the MPI job</source>
        <translation>MPI 作业的各进程</translation>
    </message>
    <message>
        <source>Lost: %1</source>
        <translation>已丢失：%1</translation>
    </message>
    <message>
        <source>Starting</source>
        <translation>正在启动</translation>
    </message>
    <message>
        <source>Computing its layers</source>
        <translation>正在计算其负责的层</translation>
    </message>
    <message>
        <source>Serving</source>
        <translation>正在服务</translation>
    </message>
    <message>
        <source>Routing requests</source>
        <translation>正在分发请求</translation>
    </message>
    <message>
        <source>%1 to %2</source>
        <translation>%1 至 %2</translation>
    </message>
    <message>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <source>Whole-model replica</source>
        <translation>完整模型副本</translation>
    </message>
    <message>
        <source>HTTP front end and pipeline stage</source>
        <translation>HTTP 前端兼流水线阶段</translation>
    </message>
    <message>
        <source>Pipeline stage</source>
        <translation>流水线阶段</translation>
    </message>
    <message>
        <source>HTTP front end</source>
        <translation>HTTP 前端</translation>
    </message>
    <message>
        <source>Process %1 on %2</source>
        <translation>%2 上的进程 %1</translation>
    </message>
    <message>
        <source>Time computing its layers since it started</source>
        <translation>自启动以来计算其负责的层所用的时间</translation>
    </message>
    <message>
        <source>The stage process&apos;s resident memory</source>
        <translation>该阶段进程的常驻内存</translation>
    </message>
    <message>
        <source>MPI job, pipeline: %1 ranks, layers split %2.</source>
        <translation>MPI 作业，流水线并行：%1 个进程，层划分为 %2。</translation>
    </message>
    <message>
        <source>Lost ranks: %1; their layers are gone, so the job ends.</source>
        <translation>丢失的进程：%1；它们负责的层已不可用，因此作业结束。</translation>
    </message>
    <message>
        <source>data parallel</source>
        <translation>数据并行</translation>
    </message>
    <message>
        <source>MPI job, %1: %2 ranks, %3 of %4 replicas serving, %5 requests in flight.</source>
        <translation>MPI 作业，%1：%2 个进程，%4 个副本中有 %3 个正在服务，%5 个请求处理中。</translation>
    </message>
    <message>
        <source>Lost ranks: %1.</source>
        <translation>已丢失的进程：%1。</translation>
    </message>
    <message>
        <source>Compute (s)</source>
        <translation>计算（秒）</translation>
    </message>
    <message>
        <source>Memory</source>
        <translation>内存</translation>
    </message>
    <message>
        <source>Time inside the replica&apos;s forward passes since it started</source>
        <translation>该副本启动以来前向计算所用的时间</translation>
    </message>
    <message>
        <source>The replica process&apos;s resident memory</source>
        <translation>该副本进程的常驻内存</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::ServerMonitor</name>
    <message>
        <source>The server&apos;s status is not the JSON Tenfold expects.</source>
        <translation>服务器返回的状态不是 Tenfold 预期的 JSON。</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::ServerPage</name>
    <message>
        <source>Server</source>
        <translation>服务器</translation>
    </message>
    <message>
        <source>Serve a model to other programs over an OpenAI-compatible HTTP API. Requests are recorded in the usage ledger.</source>
        <translation>通过兼容 OpenAI 的 HTTP API 将模型提供给其他程序使用。请求会记入用量账本。</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Model to serve</source>
        <translation>要提供服务的模型</translation>
    </message>
    <message>
        <source>B&amp;rowse…</source>
        <translation>浏览(&amp;R)…</translation>
    </message>
    <message>
        <source>Choose a model file</source>
        <translation>选择模型文件</translation>
    </message>
    <message>
        <source>&amp;Model:</source>
        <translation>模型(&amp;M)：</translation>
    </message>
    <message>
        <source>Host address</source>
        <translation>主机地址</translation>
    </message>
    <message>
        <source>127.0.0.1 accepts connections from this computer only; 0.0.0.0 from every network.</source>
        <translation>127.0.0.1 只接受来自本机的连接；0.0.0.0 接受来自所有网络的连接。</translation>
    </message>
    <message>
        <source>&amp;Host:</source>
        <translation>主机(&amp;H)：</translation>
    </message>
    <message>
        <source>Any free port</source>
        <translation>任意空闲端口</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>端口</translation>
    </message>
    <message>
        <source>&amp;Port:</source>
        <translation>端口(&amp;P)：</translation>
    </message>
    <message>
        <source>API keys</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <source>Clients send one of these as “Authorization: Bearer KEY”. Double-click a key to edit it; write LABEL:KEY to name the client in the usage ledger.</source>
        <translation>客户端以“Authorization: Bearer KEY”的形式发送其中一个密钥。双击密钥可编辑；写成 LABEL:KEY 可在用量账本中为客户端命名。</translation>
    </message>
    <message>
        <source>API &amp;keys:</source>
        <translation>API 密钥(&amp;K)：</translation>
    </message>
    <message>
        <source>&amp;Generate key</source>
        <translation>生成密钥(&amp;G)</translation>
    </message>
    <message>
        <source>Cop&amp;y key</source>
        <translation>复制密钥(&amp;Y)</translation>
    </message>
    <message>
        <source>Remo&amp;ve key</source>
        <translation>移除密钥(&amp;V)</translation>
    </message>
    <message>
        <source>Server default</source>
        <translation>服务器默认值</translation>
    </message>
    <message>
        <source>Parallel requests</source>
        <translation>并行请求数</translation>
    </message>
    <message>
        <source>Parallel re&amp;quests:</source>
        <translation>并行请求数(&amp;Q)：</translation>
    </message>
    <message>
        <source>Context length</source>
        <translation>上下文长度</translation>
    </message>
    <message>
        <source>&amp;Context length:</source>
        <translation>上下文长度(&amp;C)：</translation>
    </message>
    <message>
        <source>All cores (%1)</source>
        <translation>全部核心（%1）</translation>
    </message>
    <message>
        <source>CPU threads</source>
        <translation>CPU 线程数</translation>
    </message>
    <message>
        <source>&amp;Threads:</source>
        <translation>线程数(&amp;T)：</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>Vulkan GPU</source>
        <translation>Vulkan GPU</translation>
    </message>
    <message>
        <source>Compute device</source>
        <translation>计算设备</translation>
    </message>
    <message>
        <source>&amp;Device:</source>
        <translation>设备(&amp;D)：</translation>
    </message>
    <message>
        <source>One process</source>
        <translation>单个进程</translation>
    </message>
    <message>
        <source>MPI processes</source>
        <translation>MPI 进程数</translation>
    </message>
    <message>
        <source>Run the server as an Open MPI job of this many processes (mpirun). With replicas, the first process answers HTTP and each other one holds the whole model; with a pipeline, every process holds some of the layers.</source>
        <translation>以包含这么多进程的 Open MPI 作业运行服务器（mpirun）。使用副本时，第一个进程处理 HTTP，其余每个进程持有完整模型；使用流水线时，每个进程持有一部分层。</translation>
    </message>
    <message>
        <source>MPI proc&amp;esses:</source>
        <translation>MPI 进程数(&amp;E)：</translation>
    </message>
    <message>
        <source>Whole-model replicas (data parallel)</source>
        <translation>完整模型副本（数据并行）</translation>
    </message>
    <message>
        <source>Layers split across processes (pipeline)</source>
        <translation>各进程分担不同的层（流水线）</translation>
    </message>
    <message>
        <source>How the MPI processes share the work</source>
        <translation>MPI 进程如何分担工作</translation>
    </message>
    <message>
        <source>MPI sp&amp;lit:</source>
        <translation>MPI 划分(&amp;L)：</translation>
    </message>
    <message>
        <source>This computer only</source>
        <translation>仅本机</translation>
    </message>
    <message>
        <source>Open MPI host file</source>
        <translation>Open MPI 主机文件</translation>
    </message>
    <message>
        <source>An Open MPI host file naming the machines (reached over ssh); empty runs every process on this computer.</source>
        <translation>列出各台机器（通过 ssh 访问）的 Open MPI 主机文件；留空则所有进程都在本机运行。</translation>
    </message>
    <message>
        <source>MPI host &amp;file:</source>
        <translation>MPI 主机文件(&amp;F)：</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>&amp;Start</source>
        <translation>启动(&amp;S)</translation>
    </message>
    <message>
        <source>Start the server</source>
        <translation>启动服务器</translation>
    </message>
    <message>
        <source>St&amp;op</source>
        <translation>停止(&amp;O)</translation>
    </message>
    <message>
        <source>Stop the server</source>
        <translation>停止服务器</translation>
    </message>
    <message>
        <source>Server state</source>
        <translation>服务器状态</translation>
    </message>
    <message>
        <source>Not listening</source>
        <translation>未在监听</translation>
    </message>
    <message>
        <source>Server address</source>
        <translation>服务器地址</translation>
    </message>
    <message>
        <source>Copy &amp;URL</source>
        <translation>复制网址(&amp;U)</translation>
    </message>
    <message>
        <source>Example request with curl</source>
        <translation>curl 请求示例</translation>
    </message>
    <message>
        <source>Copy e&amp;xample</source>
        <translation>复制示例(&amp;X)</translation>
    </message>
    <message>
        <source>Server totals</source>
        <translation>服务器累计数据</translation>
    </message>
    <message>
        <source>Requests in progress and recently finished</source>
        <translation>进行中和最近完成的请求</translation>
    </message>
    <message>
        <source>the model library</source>
        <translation>模型库</translation>
    </message>
    <message>
        <source>Choose a model to serve</source>
        <translation>选择要提供服务的模型</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation>GGUF 模型 (*.gguf);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Enter the address to listen on, such as 127.0.0.1.</source>
        <translation>请输入要监听的地址，例如 127.0.0.1。</translation>
    </message>
    <message>
        <source>Other computers can reach %1, so the server needs an API key: generate one before starting.</source>
        <translation>其他计算机可以访问 %1，因此服务器需要 API 密钥：请在启动前生成一个。</translation>
    </message>
    <message>
        <source>Other computers can reach %1. Requests must carry one of the API keys; traffic is not encrypted.</source>
        <translation>其他计算机可以访问 %1。请求必须携带其中一个 API 密钥；通信未加密。</translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation>已停止。</translation>
    </message>
    <message>
        <source>Starting tenfold-server with %1…</source>
        <translation>正在以 %1 启动 tenfold-server…</translation>
    </message>
    <message>
        <source>Serving %1 at %2</source>
        <translation>正在 %2 提供 %1</translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation>正在停止…</translation>
    </message>
    <message>
        <source>The server stopped with an error:
%1</source>
        <translation>服务器因错误而停止：
%1</translation>
    </message>
    <message>
        <source>Tell me a short story.</source>
        <translation>给我讲一个简短的故事。</translation>
    </message>
    <message>
        <source>Requests: %1 (rejected %2, cancelled %3, failed %4, answered from cache %5)
Tokens: %6 prompt, %7 generated
Queued: %8 · running: %9 · last batch: %10 · KV blocks: %11 of %12</source>
        <translation>请求：%1（拒绝 %2，取消 %3，失败 %4，由缓存回答 %5）
词元：提示 %6，生成 %7
排队：%8 · 运行中：%9 · 上一批：%10 · KV 块：%11 / %12</translation>
    </message>
    <message>
        <source>T&amp;ime every operation (Profiler page)</source>
        <translation>为每个操作计时(&amp;I)（性能分析页面）</translation>
    </message>
    <message>
        <source>The server times each forward pass&apos;s operations and the Profiler page shows them live; costs a little speed</source>
        <translation>服务器为每次前向计算的各个操作计时，性能分析页面实时显示；会稍微降低速度</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::ServerProcess</name>
    <message>
        <source>mpirun was not found on the PATH; install Open MPI (Debian: openmpi-bin) to serve over several processes.</source>
        <translation>在 PATH 中找不到 mpirun；如需以多个进程提供服务，请安装 Open MPI（Debian：openmpi-bin）。</translation>
    </message>
    <message>
        <source>tenfold-worker was not found next to Tenfold or on the PATH.</source>
        <translation>在 Tenfold 所在目录和 PATH 中都找不到 tenfold-worker。</translation>
    </message>
    <message>
        <source>tenfold-server was not found next to Tenfold or on the PATH.</source>
        <translation>在 Tenfold 所在目录和 PATH 中都找不到 tenfold-server。</translation>
    </message>
    <message>
        <source>Could not write the API key file: %1</source>
        <translation>无法写入 API 密钥文件：%1</translation>
    </message>
    <message>
        <source>tenfold-server crashed.</source>
        <translation>tenfold-server 崩溃了。</translation>
    </message>
    <message>
        <source>tenfold-server exited with code %1.</source>
        <translation>tenfold-server 已退出，退出码为 %1。</translation>
    </message>
    <message>
        <source>Could not start %1: %2</source>
        <translation>无法启动 %1：%2</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::ServerRequestModel</name>
    <message>
        <source>%1 ms</source>
        <translation>%1 毫秒</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
    <message>
        <source>Finished</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>Finished (%1)</source>
        <translation>已完成（%1）</translation>
    </message>
    <message>
        <source>Queued</source>
        <translation>排队中</translation>
    </message>
    <message>
        <source>Reading prompt</source>
        <translation>正在读取提示</translation>
    </message>
    <message>
        <source>Generating (%1 choices)</source>
        <translation>正在生成（%1 个候选）</translation>
    </message>
    <message>
        <source>Generating</source>
        <translation>正在生成</translation>
    </message>
    <message>
        <source>Request</source>
        <translation>请求</translation>
    </message>
    <message>
        <source>Client</source>
        <translation>客户端</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Prompt tokens</source>
        <translation>提示词元</translation>
    </message>
    <message>
        <source>Generated</source>
        <translation>已生成</translation>
    </message>
    <message>
        <source>First token</source>
        <translation>首个词元</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>用时</translation>
    </message>
    <message>
        <source>Finished (token limit)</source>
        <translation>已完成（达到词元上限）</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::SettingsPage</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Appearance</source>
        <translation>外观</translation>
    </message>
    <message>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>Theme:</source>
        <translation>主题：</translation>
    </message>
    <message>
        <source>System language</source>
        <translation>系统语言</translation>
    </message>
    <message>
        <source>The new language is used after Tenfold restarts.</source>
        <translation>重新启动 Tenfold 后将使用新的语言。</translation>
    </message>
    <message>
        <source>Language:</source>
        <translation>语言：</translation>
    </message>
    <message>
        <source>Inference</source>
        <translation>推理</translation>
    </message>
    <message>
        <source>Automatic (GPU when available)</source>
        <translation>自动（有 GPU 时使用 GPU）</translation>
    </message>
    <message>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message>
        <source>Vulkan GPU</source>
        <translation>Vulkan GPU</translation>
    </message>
    <message>
        <source>Compute backend:</source>
        <translation>计算后端：</translation>
    </message>
    <message>
        <source>%1 (%2 device memory)</source>
        <translation>%1（%2 显存）</translation>
    </message>
    <message>
        <source>This build has no Vulkan support; models run on the CPU.</source>
        <translation>此版本不支持 Vulkan，模型将在 CPU 上运行。</translation>
    </message>
    <message>
        <source>Looking for Vulkan devices…</source>
        <translation>正在查找 Vulkan 设备…</translation>
    </message>
    <message>
        <source>No Vulkan device found; models run on the CPU.</source>
        <translation>未找到 Vulkan 设备，模型将在 CPU 上运行。</translation>
    </message>
    <message>
        <source>GPU devices:</source>
        <translation>GPU 设备：</translation>
    </message>
    <message>
        <source>All cores (%1)</source>
        <translation>全部核心（%1）</translation>
    </message>
    <message>
        <source>CPU threads:</source>
        <translation>CPU 线程数：</translation>
    </message>
    <message>
        <source>Model&apos;s training context</source>
        <translation>模型训练时的上下文</translation>
    </message>
    <message>
        <source>Context length:</source>
        <translation>上下文长度：</translation>
    </message>
    <message>
        <source>Backend, threads and context length apply the next time a model is loaded.</source>
        <translation>后端、线程数和上下文长度将在下次加载模型时生效。</translation>
    </message>
    <message>
        <source>Storage</source>
        <translation>存储</translation>
    </message>
    <message>
        <source>Data folder:</source>
        <translation>数据文件夹：</translation>
    </message>
    <message>
        <source>No GPU found, only the software Vulkan driver %1. Automatic uses the CPU, which is faster; choose Vulkan GPU to run on the software driver anyway.</source>
        <translation>未找到 GPU，只有软件 Vulkan 驱动 %1。“自动”会使用更快的 CPU；如仍要在软件驱动上运行，请选择“Vulkan GPU”。</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::TemplatePreviewTab</name>
    <message>
        <source>Chat &amp;template (Jinja)</source>
        <translation>聊天模板(&amp;T)（Jinja）</translation>
    </message>
    <message>
        <source>&amp;Model&apos;s template</source>
        <translation>模型的模板(&amp;M)</translation>
    </message>
    <message>
        <source>Put the loaded model&apos;s chat template back</source>
        <translation>恢复已加载模型的聊天模板</translation>
    </message>
    <message>
        <source>&amp;Open file…</source>
        <translation>打开文件(&amp;O)…</translation>
    </message>
    <message>
        <source>Chat template</source>
        <translation>聊天模板</translation>
    </message>
    <message>
        <source>&amp;Conversation (OpenAI-style messages JSON, optional tools)</source>
        <translation>对话(&amp;C)（OpenAI 风格的 messages JSON，可含 tools）</translation>
    </message>
    <message>
        <source>Conversation</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>Add the &amp;generation prompt (the assistant&apos;s turn header)</source>
        <translation>添加生成提示(&amp;G)（助手回合的开头）</translation>
    </message>
    <message>
        <source>&amp;BOS token:</source>
        <translation>&amp;BOS 词元：</translation>
    </message>
    <message>
        <source>&amp;EOS token:</source>
        <translation>&amp;EOS 词元：</translation>
    </message>
    <message>
        <source>&amp;Rendered text (special tokens highlighted)</source>
        <translation>渲染结果(&amp;R)（特殊词元已高亮）</translation>
    </message>
    <message>
        <source>Rendered text</source>
        <translation>渲染结果</translation>
    </message>
    <message>
        <source>Cannot read %1: %2</source>
        <translation>无法读取 %1：%2</translation>
    </message>
    <message>
        <source>The template failed: %1</source>
        <translation>模板出错：%1</translation>
    </message>
    <message>
        <source>Load a model for its template, or open or type one.</source>
        <translation>加载模型以使用其模板，或打开、输入一个模板。</translation>
    </message>
    <message>
        <source>Put the loaded model&apos;s chat template back (%1)</source>
        <translation>恢复已加载模型的聊天模板（%1）</translation>
    </message>
    <message>
        <source>Rendering…</source>
        <translation>正在渲染…</translation>
    </message>
    <message>
        <source>Open a chat template</source>
        <translation>打开聊天模板</translation>
    </message>
    <message>
        <source>Jinja templates (*.jinja *.j2 *.txt);;All files (*)</source>
        <translation>Jinja 模板 (*.jinja *.j2 *.txt);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Characters: %1 · special tokens highlighted: %2</source>
        <translation>字符数：%1 · 已高亮的特殊词元：%2</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::TextChoice</name>
    <message>
        <source>A text &amp;file:</source>
        <translation>文本文件(&amp;F)：</translation>
    </message>
    <message>
        <source>B&amp;rowse…</source>
        <translation>浏览(&amp;R)…</translation>
    </message>
    <message>
        <source>Choose a text</source>
        <translation>选择文本</translation>
    </message>
    <message>
        <source>Text files (*.txt);;All files (*)</source>
        <translation>文本文件 (*.txt);;所有文件 (*)</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::ThroughputChart</name>
    <message>
        <source>Generated tokens/s</source>
        <translation>生成词元/秒</translation>
    </message>
    <message>
        <source>Requests running</source>
        <translation>运行中的请求</translation>
    </message>
    <message>
        <source>Throughput chart</source>
        <translation>吞吐量图表</translation>
    </message>
    <message>
        <source>Generated tokens per second and requests running, once a second</source>
        <translation>每秒生成的词元数和运行中的请求数，每秒更新一次</translation>
    </message>
    <message>
        <source>Seconds</source>
        <translation>秒</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::TokenCountLabel</name>
    <message>
        <source>No model loaded: tokens are counted with the loaded model.</source>
        <translation>尚未加载模型：词元数按已加载的模型统计。</translation>
    </message>
    <message>
        <source>Cannot count tokens: %1</source>
        <translation>无法统计词元：%1</translation>
    </message>
    <message>
        <source>%1% of the %2-token context</source>
        <translation>占 %2 词元上下文的 %1%</translation>
    </message>
    <message>
        <source>1 token</source>
        <translation>1 个词元</translation>
    </message>
    <message>
        <source>%1 tokens</source>
        <translation>%1 个词元</translation>
    </message>
    <message>
        <source>the usage ledger</source>
        <translation>用量记录</translation>
    </message>
    <message>
        <source>cost: not measured yet (no runs of this model on this device)</source>
        <translation>费用：尚未测量（此模型在本设备上还没有运行记录）</translation>
    </message>
    <message>
        <source>≈ %1 %2 to send on this machine (estimate)</source>
        <translation>在本机发送约需 %1 %2（估算）</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::TrainingChart</name>
    <message>
        <source>Loss as training goes on</source>
        <translation>训练过程中的损失</translation>
    </message>
    <message>
        <source>Training loss</source>
        <translation>训练损失</translation>
    </message>
    <message>
        <source>Validation loss</source>
        <translation>验证损失</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>步</translation>
    </message>
    <message>
        <source>Loss (nats per token)</source>
        <translation>损失（每词元奈特）</translation>
    </message>
</context>
<context>
    <name>tenfold::ui::TranscriptView</name>
    <message numerus="yes">
        <source>Show %n earlier message(s)</source>
        <translation>
            <numerusform>显示更早的 %n 条消息</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>tenfold::ui::WizardParts</name>
    <message>
        <source>estimating the time left…</source>
        <translation>正在估计剩余时间…</translation>
    </message>
    <message numerus="yes">
        <source>about %n second(s) left</source>
        <translation>
            <numerusform>大约还剩 %n 秒</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>about %n minute(s) left</source>
        <translation>
            <numerusform>大约还剩 %n 分钟</numerusform>
        </translation>
    </message>
    <message>
        <source>the model library</source>
        <translation>模型库</translation>
    </message>
    <message>
        <source>&amp;Browse…</source>
        <translation>浏览(&amp;B)…</translation>
    </message>
    <message>
        <source>Choose a model</source>
        <translation>选择模型</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf)</source>
        <translation>GGUF 模型 (*.gguf)</translation>
    </message>
    <message>
        <source>the optimization history</source>
        <translation>优化历史</translation>
    </message>
</context>
</TS>
