/* The command table: PS_CMD(name, one-line summary).  Keep in the order
 * `picseek help` should list them. */
PS_CMD(index, "Index a folder of photos (incremental, resumable)")
PS_CMD(search, "Find the indexed photos that best match a sentence")
