/**
 * A COCO run-length encoded mask as pycocotools writes it: `size` is [height, width], `counts` the
 * compressed string of alternating 0/1 run lengths over the pixels in column-major order,
 * starting with a (possibly empty) run of zeros. An absent subject is an all-zero mask.
 */
export type Rle = {
  size: [height: number, width: number];
  counts: string;
};
