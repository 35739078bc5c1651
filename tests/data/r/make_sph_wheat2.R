# Spherical spatial residuals without a nugget on Wheat2 (issue 21):
# nlme's gls with corSpher(form = ~ latitude + longitude) and
# corSpher(form = ~ latitude + longitude | Block), REML.
#
# The REML likelihood in the range is multimodal here (the spherical kernel
# has compact support: it changes form whenever the range crosses a distance
# between two plots), and nlme's maximum depends on its start. So: the
# profile REML log-likelihood over a fine grid of ranges (corSpher with the
# range fixed; sigma^2 and beta profiled out), then gls started at the best
# grid point and at a list of starts; the highest maximum is the reference.
# Run from tests/data: Rscript r/make_sph_wheat2.R  -> sph_wheat2.json
suppressMessages({library(nlme); library(jsonlite)})
w <- read.csv("Wheat2.csv")
gctl <- glsControl(tolerance = 1e-12, msTol = 1e-12, maxIter = 500, msMaxIter = 500)
one <- function(name, keyword, form) {
  fit_at <- function(r, fixed) gls(yield ~ variety - 1, w, method = "REML", control = gctl,
    correlation = corSpher(c(r), form = as.formula(form), fixed = fixed))
  grid <- seq(1.25, 60, by = 0.05)
  prof <- sapply(grid, function(r) as.numeric(logLik(fit_at(r, TRUE))))
  starts <- c(grid[which.max(prof)], 1.5, 3, 5, 10, 20, 30, 40, 60)
  fits <- lapply(starts, function(r) tryCatch(fit_at(r, FALSE), error = function(e) NULL))
  ll <- sapply(fits, function(g) if (is.null(g)) -Inf else as.numeric(logLik(g)))
  g <- fits[[which.max(ll)]]
  p <- coef(g$modelStruct$corStruct, unconstrained = FALSE)
  # local maxima of the profile on the grid (for the record)
  k <- which(diff(sign(diff(prof))) < 0) + 1
  list(name = name, data = "Wheat2.csv", formula = "yield ~ variety - 1", keyword = keyword,
       loglik = as.numeric(logLik(g)), beta = as.list(coef(g)), sigma2 = g$sigma^2,
       range = unname(p["range"]),
       starts = starts, start_logliks = ll,
       profile_grid_max = list(range = grid[which.max(prof)], loglik = max(prof)),
       profile_local_maxima = list(range = grid[k], loglik = prof[k]))
}
fits <- list(
  one("wheat2_sph", "sph(latitude + longitude)", "~ latitude + longitude"),
  one("wheat2_sph_block", "sph(latitude + longitude | Block)", "~ latitude + longitude | Block"))
out <- list(source = "tests/data/r/make_sph_wheat2.R", nlme = as.character(packageVersion("nlme")),
            R = R.version.string, fits = fits)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "sph_wheat2.json")
