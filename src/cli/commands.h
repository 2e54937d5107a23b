/* The command table: PS_CMD(name, one-line summary).  Keep in the order
 * `picseek help` should list them. */
PS_CMD(index, "Index a folder of photos (incremental, resumable)")
PS_CMD(search, "Find the indexed photos that best match a sentence")
PS_CMD(policy, "Apply the content rule to a text")
PS_CMD(glove, "GloVe word vectors: convert the JSON, show info, find nearest words")
PS_CMD(dataset, "Validate the annotated dataset, print its numbers, export labels")
PS_CMD(classify, "Name what photos show (ImageNet classes) or how much of them each VOC class covers")
PS_CMD(serve, "Serve the search page and its JSON API over HTTP")
