# Reference values for lerendtransformeren.scales.reliability (tests/scales/test_scales_reliability.py).
#
# Writes three deterministic item data sets (raw responses as ticked, reverse-keyed items
# not yet reversed) and, per score, psych::alpha (raw_alpha, r.drop, alpha.drop raw_alpha)
# and the one-factor minres solution psych::fa(fm = "minres") with omega total from its
# loadings, (sum l)^2 / ((sum l)^2 + sum(1 - l^2)), and psych::omega(nfactors = 1)$omega.tot.
# The scoring keys below are typed in here from the published keys, independently of the
# package's YAML definitions.
#
#   mastery.csv  250 x 7, complete                 -> listwise
#   uwes.csv     300 x 9, about 6% missing (MCAR)  -> pairwise (psych default) and listwise
#   sdq.csv      400 x 25, about 3% missing (MCAR) -> pairwise
#
# Run from the repository root:  Rscript tests/reference/scales/make_reference.R
# R 4.x, psych 2.2.9, jsonlite.

suppressPackageStartupMessages({
  library(psych)
  library(jsonlite)
})

here <- "tests/reference/scales"
set.seed(20261123)

cut_items <- function(latent, loadings, thresholds) {
  n <- length(latent)
  sapply(loadings, function(l) {
    y <- l * latent + sqrt(1 - l^2) * rnorm(n)
    findInterval(y, thresholds)
  })
}
punch_holes <- function(x, p) {
  x[matrix(runif(length(x)) < p, nrow(x))] <- NA
  x
}

# mastery: 7 items 1..4, items 1, 2, 3, 5, 7 negatively worded (raw = 5 - forward)
n <- 250
f <- rnorm(n)
fwd <- cut_items(f, c(0.65, 0.7, 0.6, 0.55, 0.7, 0.5, 0.6), c(-1, 0, 1)) + 1
mastery <- fwd
neg <- c(1, 2, 3, 5, 7)
mastery[, neg] <- 5 - fwd[, neg]
colnames(mastery) <- sprintf("mastery_%02d", 1:7)

# uwes: 9 items 0..6, three correlated factors
n <- 300
g <- rnorm(n)
fac <- sapply(1:3, function(k) 0.85 * g + sqrt(1 - 0.85^2) * rnorm(n))
uwes <- matrix(NA_real_, n, 9)
groups_uwes <- list(vigour = c(1, 4, 8), dedication = c(2, 5, 7), absorption = c(3, 6, 9))
for (k in 1:3) {
  uwes[, groups_uwes[[k]]] <- cut_items(fac[, k], c(0.8, 0.75, 0.7), c(-2, -1.3, -0.6, 0, 0.6, 1.4))
}
uwes <- punch_holes(uwes, 0.06)
colnames(uwes) <- sprintf("uwes_%02d", 1:9)

# sdq: 25 items 0..2 in the published order; five subscale factors
n <- 400
g <- rnorm(n)
groups_sdq <- list(emotional = c(3, 8, 13, 16, 24), conduct = c(5, 7, 12, 18, 22),
                   hyperactivity = c(2, 10, 15, 21, 25), peer = c(6, 11, 14, 19, 23),
                   prosocial = c(1, 4, 9, 17, 20))
sdq <- matrix(NA_real_, n, 25)
for (k in names(groups_sdq)) {
  sign <- if (k == "prosocial") -1 else 1
  fk <- sign * 0.7 * g + sqrt(1 - 0.7^2) * rnorm(n)
  thr <- if (k == "prosocial") c(-1.2, -0.2) else c(0.2, 1.1)
  sdq[, groups_sdq[[k]]] <- cut_items(fk, c(0.75, 0.7, 0.65, 0.6, 0.7), thr)
}
positive <- c(7, 11, 14, 21, 25)
sdq[, positive] <- 2 - sdq[, positive]
sdq <- punch_holes(sdq, 0.03)
colnames(sdq) <- sprintf("sdq_%02d", 1:25)

write.csv(mastery, file.path(here, "mastery.csv"), row.names = FALSE, na = "")
write.csv(uwes, file.path(here, "uwes.csv"), row.names = FALSE, na = "")
write.csv(sdq, file.path(here, "sdq.csv"), row.names = FALSE, na = "")

reference <- function(raw, lo, hi, reverse, items, instrument, score, missing) {
  x <- raw
  x[, reverse] <- lo + hi - x[, reverse]
  x <- x[, items, drop = FALSE]
  x <- x[rowSums(!is.na(x)) > 0, , drop = FALSE]
  if (missing == "listwise") x <- na.omit(x)
  a <- psych::alpha(x, check.keys = FALSE, warnings = FALSE)
  r <- cor(x, use = "pairwise")
  l <- as.numeric(fa(r, nfactors = 1, fm = "minres", n.obs = nrow(x))$loadings[, 1])
  if (sum(l) < 0) l <- -l
  om <- suppressWarnings(suppressMessages(omega(r, nfactors = 1, n.obs = nrow(x), plot = FALSE)))
  list(instrument = instrument, score = score, missing = missing, items = colnames(x),
       n = nrow(x), raw_alpha = a$total$raw_alpha, r_drop = unname(a$item.stats$r.drop),
       alpha_drop = unname(a$alpha.drop$raw_alpha), loadings = l,
       omega_loadings = sum(l)^2 / (sum(l)^2 + sum(1 - l^2)), omega_psych = om$omega.tot)
}

out <- list()
out[[length(out) + 1]] <- reference(mastery, 1, 4, neg, colnames(mastery), "mastery", "total", "listwise")
for (missing in c("pairwise", "listwise")) {
  for (k in names(groups_uwes)) {
    out[[length(out) + 1]] <- reference(uwes, 0, 6, integer(0), groups_uwes[[k]], "uwes9", k, missing)
  }
  out[[length(out) + 1]] <- reference(uwes, 0, 6, integer(0), 1:9, "uwes9", "total", missing)
}
for (k in names(groups_sdq)) {
  out[[length(out) + 1]] <- reference(sdq, 0, 2, positive, sort(groups_sdq[[k]]), "sdq_parent", k, "pairwise")
}
difficulties <- sort(unlist(groups_sdq[1:4]))
out[[length(out) + 1]] <- reference(sdq, 0, 2, positive, difficulties, "sdq_parent", "total_difficulties", "pairwise")

writeLines(toJSON(list(psych_version = as.character(packageVersion("psych")),
                       r_version = R.version.string, reference = out),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(here, "reliability_reference.json"))
