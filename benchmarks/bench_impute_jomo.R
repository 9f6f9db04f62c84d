# R jomo on the data of benchmarks/bench_impute.py (called by it; or:
#   Rscript bench_impute_jomo.R data.csv m burn between var1,var2,... "~ x formula")
# jomo cannot model three or four nested levels; the closest jomo model: jomo1rancon with a
# random intercept per family (clus = family) and the given predictors in X, the variables on
# their own scale (jomo's default priors). Prints the seconds of the imputation.
suppressPackageStartupMessages(library(jomo))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
m <- as.integer(args[2]); burn <- as.integer(args[3]); between <- as.integer(args[4])
vars <- strsplit(args[5], ",")[[1]]
Y <- d[, vars]
X <- model.matrix(as.formula(args[6]), d)
Z <- matrix(1, nrow(d), 1)
set.seed(2026)
t0 <- proc.time()[["elapsed"]]
imp <- jomo1rancon(Y, as.data.frame(X), as.data.frame(Z), clus = d$family, nburn = burn, nbetween = between,
                   nimp = m, output = 0)
cat(sprintf("jomo_seconds %.3f rows %d imputations %d jomo %s\n", proc.time()[["elapsed"]] - t0, nrow(d),
            length(unique(imp$Imputation)) - 1, packageVersion("jomo")))
