/* The command table: PS_CMD(name, one-line summary).  Keep in the order
 * `picseek help` should list them. */
PS_CMD(index, "Index a folder of photos (incremental, resumable)")
PS_CMD(search, "Find the indexed photos that best match a sentence")
PS_CMD(policy, "Apply the content rule to a text")
PS_CMD(glove, "GloVe word vectors: convert the JSON, show info, find nearest words")
PS_CMD(dataset, "Validate the annotated dataset, print its numbers, export labels")
PS_CMD(classify, "Top ImageNet classes of photos, or their Pascal VOC areas (DeepLab)")
PS_CMD(idf, "Build the query word weights (IDF) from the training captions")
PS_CMD(embed_text, "Show how a search text is read: words, lemmas, weights, vector, classes")
PS_CMD(score, "Score one photo for a text and show the image classes behind the score")
PS_CMD(eval, "Evaluate search quality on the dataset (zero-shot retrieval, learned models)")
PS_CMD(train, "Learn the relevance model and the content classifier, write the model file")
PS_CMD(serve, "Serve the search page and its JSON API over HTTP")
